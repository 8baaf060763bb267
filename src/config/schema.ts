import { z } from 'zod';
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

/** The whole configuration: YAML file merged with environment variables (env wins). */
export const configSchema = z.object({
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
    })
    .default({ inCluster: 'auto', qps: 5, burst: 10, requestTimeoutMs: 10_000 }),
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
      enabled: z.coerce.boolean().default(true),
      /** How long an approval request stays open; expired means denied. */
      approvalTtl: durationText.default('30m'),
      /** Roll back automatically when a change fails verification and its undo is known. */
      autoRollback: z.coerce.boolean().default(true),
    })
    .default({ enabled: true, approvalTtl: '30m', autoRollback: true }),
  audit: z
    .object({
      /** Also write each audit record as a JSON line to stdout. */
      stdout: z.coerce.boolean().default(false),
    })
    .default({ stdout: false }),
  /** Who may run what, where and when: rules, protected namespaces, freezes, limits (src/policy/README.md). */
  policy: policySchema.prefault({}),
});

export type Config = z.output<typeof configSchema>;

/** Paths whose values are never printed. */
export const SECRET_PATHS: readonly string[] = [
  'slack.botToken',
  'slack.appToken',
  'slack.signingSecret',
  'elasticsearch.password',
  'elasticsearch.apiKey',
  'store.postgresUrl',
];
