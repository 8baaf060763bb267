import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseDurationSeconds } from '../skills/schema.ts';

const durationText = z.string().regex(/^\d+(s|m|h)$/, 'must be a duration like 2s, 15s or 1m');
/** A boolean from YAML or from env text ("false" is false). */
const flag = z.union([z.boolean(), z.stringbool()]);

/** Where the in-cluster service account's namespace is mounted. */
const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

/**
 * The `ha` section: with several replicas, background loops run on one leader chosen through a
 * coordination.k8s.io/v1 Lease. Defaults are client-go's (15 s lease, 10 s renew deadline, 2 s retry).
 */
export const haConfigSchema = z
  .object({
    leaderElection: z
      .object({
        /** Off (the default): this process runs every background loop, and needs no Lease. */
        enabled: flag.default(false),
        /** Namespace of the Lease; default the service account's namespace in a pod, else "default". */
        namespace: z.string().min(1).optional(),
        leaseName: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS subdomain name such as "wheelhouse"')
          .default('wheelhouse'),
        /** This process's name in the Lease (a suffix keeps two processes apart); default the host name. */
        identity: z.string().min(1).optional(),
        /** How long a holder's claim lasts without renewal; others take over after it. */
        leaseDuration: durationText.default('15s'),
        /** A leader that could not renew for this long stops its loops. */
        renewDeadline: durationText.default('10s'),
        /** How often candidates try and the leader renews. */
        retryPeriod: durationText.default('2s'),
      })
      .prefault({})
      .superRefine((le, ctx) => {
        const lease = parseDurationSeconds(le.leaseDuration) ?? 0;
        const renew = parseDurationSeconds(le.renewDeadline) ?? 0;
        const retry = parseDurationSeconds(le.retryPeriod) ?? 0;
        if (!(lease > renew)) {
          ctx.addIssue({
            code: 'custom',
            path: ['leaseDuration'],
            message: 'must be longer than renewDeadline',
          });
        }
        if (!(renew > retry)) {
          ctx.addIssue({
            code: 'custom',
            path: ['renewDeadline'],
            message: 'must be longer than retryPeriod',
          });
        }
      }),
  })
  .prefault({});

export type HaConfig = z.output<typeof haConfigSchema>;

/** The Lease's namespace: configured, else the pod's own, else "default". */
export function leaseNamespace(
  config: HaConfig['leaderElection'],
  readFile = readServiceAccountNamespace,
): string {
  return config.namespace ?? readFile() ?? 'default';
}

function readServiceAccountNamespace(): string | undefined {
  try {
    return readFileSync(SERVICE_ACCOUNT_NAMESPACE, 'utf8').trim() || undefined;
  } catch {
    // Not in a pod: the caller falls back to "default".
    return undefined;
  }
}
