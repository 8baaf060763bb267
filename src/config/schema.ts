import { z } from 'zod';
import { canaryConfigSchema } from '../canary/canary-config.ts';
import {
  checkClusters,
  clusterChannels,
  clusterName,
  remoteClusterSchema,
} from '../clusters/cluster-config.ts';
import { haConfigSchema } from '../ha/ha-config.ts';
import { pipelinesConfigSchema } from '../pipelines/pipeline-config.ts';
import { policySchema } from '../policy/policy-schema.ts';

const regexText = z.string().refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, 'must be a valid regular expression');

const durationText = z.string().regex(/^\d+(s|m|h|d)$/, 'must be a duration like 30s, 15m, 1h or 7d');

const identityRule = z
  .object({
    slack: z
      .string()
      .regex(/^[UW][A-Z0-9]+$/, 'must be a Slack user id such as U024BE7LH')
      .optional(),
    email: z.email().optional(),
    kubeUser: z.string().min(1),
    groups: z.array(z.string().min(1)).default([]),
  })
  .refine((r) => r.slack !== undefined || r.email !== undefined, 'needs `slack` (user id) or `email`');

/** A boolean from YAML or from env text ("false" is false, unlike z.coerce.boolean). */
const flag = z.union([z.boolean(), z.stringbool()]);

const alertRoute = z.object({
  /** Label name → value, list of values, or glob with `*`; every label named must match. */
  match: z.record(z.string().min(1), z.union([z.string(), z.array(z.string()).min(1)])).default({}),
  /** Slack channel id the group's thread goes to, e.g. C024BE91L. */
  channel: z.string().min(1),
});

const alertsSchema = z
  .object({
    /** Accept Alertmanager webhooks on POST /alerts. */
    enabled: flag.default(false),
    /** Bearer token Alertmanager sends (`http_config.authorization.credentials`). */
    token: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Basic auth Alertmanager sends (`http_config.basic_auth`). */
    basicAuth: z.object({ username: z.string().min(1), password: z.string().min(8) }).optional(),
    /** Accept webhooks without credentials (only behind something that authenticates). */
    allowUnauthenticated: flag.default(false),
    /** Channel for groups no route matches. */
    defaultChannel: z.string().min(1).optional(),
    /** First match wins; matched against the group's common labels (namespace, team, severity …). */
    routes: z.array(alertRoute).default([]),
    /** Alertmanager base URL for silences; default: each payload's externalURL. */
    alertmanagerUrl: z.url().optional(),
    /** Post pods, events, logs, a chart and recent changes into each new thread. */
    enrichment: flag.default(true),
    /** Enrichments running at once (a storm must not flood the API server). */
    enrichmentConcurrency: z.coerce.number().int().positive().max(64).default(4),
    /** Largest webhook body accepted, in bytes. */
    maxBodyBytes: z.coerce.number().int().positive().default(2_000_000),
    /** Least time between two updates of one root message (chat.update is rate limited). */
    updateInterval: durationText.default('10s'),
    /** Alert label naming the cluster an alert is about (matched to cluster names); without it, the default cluster. */
    clusterLabel: z.string().min(1).default('cluster'),
    /** Silence lengths offered as buttons. */
    silenceDurations: z.array(durationText).min(1).max(4).default(['1h', '8h']),
  })
  .default({
    enabled: false,
    allowUnauthenticated: false,
    routes: [],
    enrichment: true,
    enrichmentConcurrency: 4,
    maxBodyBytes: 2_000_000,
    updateInterval: '10s',
    clusterLabel: 'cluster',
    silenceDurations: ['1h', '8h'],
  })
  .superRefine((alerts, ctx) => {
    if (!alerts.enabled) return;
    if (!alerts.token && !alerts.basicAuth && !alerts.allowUnauthenticated) {
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message:
          'POST /alerts needs credentials: set a token (WH_ALERTS_TOKEN) or basicAuth, or allowUnauthenticated: true',
      });
    }
    if (!alerts.defaultChannel && !alerts.routes.some((r) => Object.keys(r.match).length === 0)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultChannel'],
        message: 'needs a default channel (WH_ALERTS_CHANNEL) for groups no route matches',
      });
    }
  });

/** The whole configuration: YAML file merged with environment variables (env wins). */
export const configSchema = z
  .object({
    /** Where the embedded store and saved attachments live. */
    dataDir: z.string().min(1).default('.wheelhouse'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    http: z
      .object({
        host: z.string().default('0.0.0.0'),
        port: z.coerce.number().int().min(0).max(65535).default(8080),
        /** Largest request body accepted, in bytes. */
        maxBodyBytes: z.coerce.number().int().positive().default(1_000_000),
      })
      .default({ host: '0.0.0.0', port: 8080, maxBodyBytes: 1_000_000 }),
    slack: z
      .object({
        mode: z.enum(['socket', 'http']).default('socket'),
        botToken: z
          .string()
          .regex(/^xoxb-/, 'must be a bot token starting with xoxb-')
          .optional(),
        appToken: z
          .string()
          .regex(/^xapp-/, 'must be an app-level token starting with xapp-')
          .optional(),
        signingSecret: z.string().min(8).optional(),
        /** Web API base URL; only tests and proxies change it. */
        apiUrl: z.url().optional(),
        requestTimeoutMs: z.coerce.number().int().positive().default(10_000),
      })
      .default({ mode: 'socket', requestTimeoutMs: 10_000 })
      .superRefine((slack, ctx) => {
        if (!slack.botToken) return;
        if (slack.mode === 'socket' && !slack.appToken) {
          ctx.addIssue({
            code: 'custom',
            path: ['appToken'],
            message: 'Socket Mode needs an app-level token (SLACK_APP_TOKEN, xapp-…)',
          });
        }
        if (slack.mode === 'http' && !slack.signingSecret) {
          ctx.addIssue({
            code: 'custom',
            path: ['signingSecret'],
            message: 'HTTP mode needs the signing secret (SLACK_SIGNING_SECRET)',
          });
        }
      }),
    kube: z
      .object({
        /** Path to a kubeconfig; default KUBECONFIG or ~/.kube/config, or the in-cluster service account. */
        kubeconfig: z.string().optional(),
        context: z.string().optional(),
        inCluster: z.enum(['auto', 'always', 'never']).default('auto'),
        qps: z.coerce.number().positive().default(5),
        burst: z.coerce.number().int().positive().default(10),
        requestTimeoutMs: z.coerce.number().int().positive().default(10_000),
        /** This cluster's name in chat and the audit (`--cluster default`), when `clusters` adds others. */
        name: clusterName.default('default'),
        /** Slack channels whose requests go to this cluster when they do not say `--cluster`. */
        channels: clusterChannels,
      })
      .default({
        inCluster: 'auto',
        qps: 5,
        burst: 10,
        requestTimeoutMs: 10_000,
        name: 'default',
        channels: [],
      }),
    /**
     * Further clusters served by this one Wheelhouse (each with its own caches, policy and
     * approvals); `kube` stays its own cluster, where the leader-election Lease lives.
     */
    clusters: z.array(remoteClusterSchema).default([]),
    /** The cluster of requests that neither say `--cluster` nor come from a cluster's channel. @default kube.name */
    defaultCluster: clusterName.optional(),
    identity: z
      .object({
        /** Slack users mapped to Kubernetes users and groups (impersonated). */
        users: z.array(identityRule).default([]),
        /** What unmapped Slack users act as; `deny` refuses them. `{id}` is the Slack user id. */
        unmapped: z
          .union([
            z.literal('deny'),
            z.object({ kubeUser: z.string().min(1), groups: z.array(z.string().min(1)).default([]) }),
          ])
          .default({ kubeUser: 'slack:{id}', groups: ['wheelhouse:viewers'] }),
      })
      .default({ users: [], unmapped: { kubeUser: 'slack:{id}', groups: ['wheelhouse:viewers'] } }),
    prometheus: z
      .object({
        url: z.url().optional(),
        timeoutMs: z.coerce.number().int().positive().default(10_000),
      })
      .default({ timeoutMs: 10_000 }),
    elasticsearch: z
      .object({
        node: z.url().optional(),
        username: z.string().optional(),
        password: z.string().optional(),
        apiKey: z.string().optional(),
        indexPattern: z.string().default('logs-*'),
        layout: z.enum(['ecs', 'fluent-bit']).default('ecs'),
        /** Field names that differ from the layout preset, e.g. { level: "severity" }. */
        fields: z.record(z.string(), z.string()).default({}),
        timeoutMs: z.coerce.number().int().positive().default(10_000),
        maxRange: durationText.default('7d'),
      })
      .default({ indexPattern: 'logs-*', layout: 'ecs', fields: {}, timeoutMs: 10_000, maxRange: '7d' }),
    store: z
      .object({
        driver: z.enum(['sqlite', 'postgres']).default('sqlite'),
        /** SQLite file; default <dataDir>/wheelhouse.db. */
        sqlitePath: z.string().optional(),
        /** postgres://user:pass@host:5432/db */
        postgresUrl: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
          .optional(),
      })
      .default({ driver: 'sqlite' })
      .refine((s) => s.driver !== 'postgres' || s.postgresUrl !== undefined, {
        message: 'driver postgres needs postgresUrl (env WH_DATABASE_URL)',
        path: ['postgresUrl'],
      }),
    limits: z
      .object({
        chatLogLines: z.coerce.number().int().positive().default(50),
        maxLogLines: z.coerce.number().int().positive().default(5000),
        maxLogBytes: z.coerce.number().int().positive().default(1_000_000),
        maxSearchHits: z.coerce.number().int().positive().max(10_000).default(500),
        maxMetricsRange: durationText.default('7d'),
        maxPointsPerSeries: z.coerce.number().int().positive().max(11_000).default(1000),
        /** Longest a request may run before it is cancelled. */
        requestTimeoutMs: z.coerce.number().int().positive().default(30_000),
      })
      .default({
        chatLogLines: 50,
        maxLogLines: 5000,
        maxLogBytes: 1_000_000,
        maxSearchHits: 500,
        maxMetricsRange: '7d',
        maxPointsPerSeries: 1000,
        requestTimeoutMs: 30_000,
      }),
    redaction: z
      .object({
        /** Extra regular expressions whose matches never reach chat (e.g. customer ids). */
        patterns: z.array(regexText).default([]),
      })
      .default({ patterns: [] }),
    changes: z
      .object({
        /** Turn the change road off entirely (every write refused); policy still decides when on. */
        enabled: flag.default(true),
        /** How long an approval request stays open; expired means denied. */
        approvalTtl: durationText.default('30m'),
        /** How long before expiry the approvers are reminded (once); "0s" turns reminders off. */
        approvalReminder: durationText.default('5m'),
        /** Slack channel id that also gets every approval request, reminder and expiry, e.g. the on-call channel. */
        approvalsChannel: z
          .string()
          .regex(/^[CG][A-Z0-9]+$/, 'must be a Slack channel id like C0123ABCD')
          .optional(),
        /** Roll back automatically when a change fails verification and its undo is known. */
        autoRollback: flag.default(true),
        /**
         * How often approvals are checked for reminders and expiry, and verifications nobody follows
         * (after a restart, or while the API server was unreachable) are resumed.
         */
        upkeepInterval: durationText.default('15s'),
      })
      .default({
        enabled: true,
        approvalTtl: '30m',
        approvalReminder: '5m',
        autoRollback: true,
        upkeepInterval: '15s',
      }),
    /**
     * The language model behind free text (any OpenAI-compatible Chat Completions endpoint). Unset
     * baseUrl or model: free text is refused with the reason, and the typed grammar works as always.
     */
    llm: z
      .object({
        /** e.g. https://api.openai.com/v1, http://localhost:11434/v1 (Ollama), http://vllm:8000/v1 */
        baseUrl: z.url().optional(),
        /** Model name as the endpoint knows it, e.g. "gpt-4.1-mini" or "llama3.1:8b". */
        model: z.string().min(1).optional(),
        /** Sent as the bearer token; local servers often need none. */
        apiKey: z.string().min(1).optional(),
        /** One model call at most this long; the SDK's own default is 10 minutes. */
        requestTimeoutMs: z.coerce.number().int().positive().default(30_000),
        /** Model calls per request at most (read steps, repair and the answer together). */
        maxSteps: z.coerce.number().int().min(1).max(20).default(6),
        /** Tokens (prompt + completion, all calls) per request at most. */
        maxTokens: z.coerce.number().int().positive().default(32_000),
        /** Wall time per free-text request at most, in seconds. */
        maxSeconds: z.coerce.number().int().positive().default(60),
        /** Characters of one tool output passed to the model; the rest is cut with a marker. */
        maxToolOutputChars: z.coerce.number().int().min(200).default(6_000),
        /** Earlier turns of a thread sent along ("and its logs?"). */
        memoryTurns: z.coerce.number().int().min(0).max(50).default(10),
        /** Personal data patterns never sent to the model (besides secrets and redaction.patterns). */
        piiPatterns: z.array(regexText).default([]),
        /** Price per million tokens in US dollars, for the cost in /metrics and the audit. */
        pricing: z
          .object({
            promptPerMillion: z.coerce.number().min(0).default(0),
            completionPerMillion: z.coerce.number().min(0).default(0),
          })
          .default({ promptPerMillion: 0, completionPerMillion: 0 }),
      })
      .prefault({}),
    audit: z
      .object({
        /** Also write each audit record as a JSON line to stdout. */
        stdout: flag.default(false),
      })
      .default({ stdout: false }),
    /** Alertmanager webhook → one incident thread per alert group. */
    alerts: alertsSchema,
    /** Canary runs: steps, analysis defaults per workload, custom metrics (README, Canary releases). */
    canary: canaryConfigSchema,
    /** Several replicas: background loops run on the holder of a Lease (src/ha). */
    ha: haConfigSchema,
    /** Who may run what, where and when: rules, protected namespaces, freezes, limits (src/policy/README.md). */
    policy: policySchema.prefault({}),
    /** The pipeline catalog (`/wh run`): Tekton, built-in Job pipelines and CI webhooks (src/pipelines). */
    pipelines: pipelinesConfigSchema,
  })
  .superRefine(checkClusters);

export type Config = z.output<typeof configSchema>;

/** Paths whose values are never printed. */
export const SECRET_PATHS: readonly string[] = [
  'slack.botToken',
  'slack.appToken',
  'slack.signingSecret',
  'elasticsearch.password',
  'elasticsearch.apiKey',
  'store.postgresUrl',
  'llm.apiKey',
  'alerts.token',
  'alerts.basicAuth.password',
  'pipelines.catalog.*.secret',
];
