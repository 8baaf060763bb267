import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { type Config, configSchema, SECRET_PATHS } from './schema.ts';

/** Environment variables and the config path each one sets. Env wins over the file. */
export const ENV_VARS: ReadonlyArray<{ name: string; path: string; description: string }> = [
  { name: 'WH_DATA_DIR', path: 'dataDir', description: 'Directory of the embedded store and saved files' },
  { name: 'WH_LOG_LEVEL', path: 'logLevel', description: 'fatal|error|warn|info|debug|trace|silent' },
  { name: 'WH_HTTP_HOST', path: 'http.host', description: 'Address the HTTP server binds' },
  {
    name: 'WH_HTTP_PORT',
    path: 'http.port',
    description: 'Port of /healthz, /readyz, /metrics, /slack/events',
  },
  { name: 'WH_SLACK_MODE', path: 'slack.mode', description: 'socket (default) or http' },
  { name: 'SLACK_BOT_TOKEN', path: 'slack.botToken', description: 'Bot token (xoxb-…); secret' },
  {
    name: 'SLACK_APP_TOKEN',
    path: 'slack.appToken',
    description: 'App-level token for Socket Mode (xapp-…); secret',
  },
  {
    name: 'SLACK_SIGNING_SECRET',
    path: 'slack.signingSecret',
    description: 'Signing secret for HTTP mode; secret',
  },
  { name: 'SLACK_API_URL', path: 'slack.apiUrl', description: 'Slack Web API base URL (tests only)' },
  { name: 'KUBECONFIG', path: 'kube.kubeconfig', description: 'Kubeconfig file (first of a list is used)' },
  { name: 'WH_KUBE_CONTEXT', path: 'kube.context', description: 'Kubeconfig context name' },
  { name: 'WH_KUBE_IN_CLUSTER', path: 'kube.inCluster', description: 'auto|always|never' },
  {
    name: 'WH_CLUSTER_NAME',
    path: 'kube.name',
    description: "This cluster's name in chat (--cluster) and the audit (default: default)",
  },
  {
    name: 'WH_DEFAULT_CLUSTER',
    path: 'defaultCluster',
    description: 'Cluster of requests that name none (default: WH_CLUSTER_NAME)',
  },
  { name: 'WH_PROMETHEUS_URL', path: 'prometheus.url', description: 'Prometheus base URL' },
  { name: 'WH_ES_NODE', path: 'elasticsearch.node', description: 'Elasticsearch URL' },
  { name: 'WH_ES_USERNAME', path: 'elasticsearch.username', description: 'Elasticsearch user' },
  { name: 'WH_ES_PASSWORD', path: 'elasticsearch.password', description: 'Elasticsearch password; secret' },
  { name: 'WH_ES_API_KEY', path: 'elasticsearch.apiKey', description: 'Elasticsearch API key; secret' },
  { name: 'WH_ES_INDEX', path: 'elasticsearch.indexPattern', description: 'Index pattern, default logs-*' },
  { name: 'WH_ES_LAYOUT', path: 'elasticsearch.layout', description: 'ecs or fluent-bit field layout' },
  { name: 'WH_STORE', path: 'store.driver', description: 'sqlite (default) or postgres' },
  { name: 'WH_DATABASE_URL', path: 'store.postgresUrl', description: 'PostgreSQL URL; secret' },
  {
    name: 'WH_APPROVALS_CHANNEL',
    path: 'changes.approvalsChannel',
    description: 'Slack channel id that also gets approval requests, reminders and expiries',
  },
  { name: 'WH_LLM_BASE_URL', path: 'llm.baseUrl', description: 'OpenAI-compatible API base URL' },
  { name: 'WH_LLM_MODEL', path: 'llm.model', description: 'Model name for free text' },
  { name: 'WH_LLM_API_KEY', path: 'llm.apiKey', description: 'API key of the model endpoint; secret' },
  {
    name: 'WH_LLM_TIMEOUT_MS',
    path: 'llm.requestTimeoutMs',
    description: 'Longest one model call may take (default 30000)',
  },
  { name: 'WH_LLM_MAX_STEPS', path: 'llm.maxSteps', description: 'Model calls per request (default 6)' },
  { name: 'WH_LLM_MAX_TOKENS', path: 'llm.maxTokens', description: 'Tokens per request (default 32000)' },
  {
    name: 'WH_LLM_MAX_SECONDS',
    path: 'llm.maxSeconds',
    description: 'Seconds per free-text request (default 60)',
  },
  { name: 'WH_ALERTS_ENABLED', path: 'alerts.enabled', description: 'true to accept POST /alerts' },
  { name: 'WH_ALERTS_TOKEN', path: 'alerts.token', description: 'Bearer token Alertmanager sends; secret' },
  {
    name: 'WH_ALERTS_CHANNEL',
    path: 'alerts.defaultChannel',
    description: 'Default Slack channel of alert threads',
  },
  {
    name: 'WH_ALERTMANAGER_URL',
    path: 'alerts.alertmanagerUrl',
    description: 'Alertmanager URL for silences',
  },
  {
    name: 'WH_LEADER_ELECTION',
    path: 'ha.leaderElection.enabled',
    description: 'true: background loops run only on the holder of a Lease (several replicas)',
  },
  { name: 'WH_LEASE_NAMESPACE', path: 'ha.leaderElection.namespace', description: 'Namespace of the Lease' },
  {
    name: 'WH_LEASE_NAME',
    path: 'ha.leaderElection.leaseName',
    description: 'Name of the Lease (wheelhouse)',
  },
  {
    name: 'WH_POD_NAME',
    path: 'ha.leaderElection.identity',
    description: 'Holder name in the Lease (the pod name)',
  },
  {
    name: 'WH_AUDIT_STDOUT',
    path: 'audit.stdout',
    description: 'true to also print audit records as JSON lines',
  },
];

/** One problem with the configuration, named by its path. */
export interface ConfigProblem {
  path: string;
  message: string;
  /** Where the bad value came from. */
  source: 'file' | 'env' | 'default';
}

export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super(`configuration has ${problems.length} problem(s):\n${formatProblems(problems)}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `  - ${p.path} (${p.source}): ${p.message}`).join('\n');
}

export interface LoadConfigOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Config file path (flag `--config` or env WH_CONFIG); absent means env and defaults only. */
  configPath?: string | undefined;
  cwd?: string;
}

export interface LoadedConfig {
  config: Config;
  configPath: string | undefined;
}

/** Loads and validates config, collecting every problem before failing. The only reader of env. */
export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const configPath = options.configPath ?? options.env['WH_CONFIG'];
  const problems: ConfigProblem[] = [];
  const fromFile = configPath ? readConfigFile(resolve(cwd, configPath), problems) : {};
  const fromEnv: Record<string, unknown> = {};
  const envPaths = new Set<string>();
  for (const { name, path } of ENV_VARS) {
    let value = options.env[name];
    if (value === undefined || value === '') continue;
    if (name === 'KUBECONFIG') value = value.split(':')[0] ?? value;
    setPath(fromEnv, path, value);
    envPaths.add(path);
  }
  const merged = deepMerge(fromFile, fromEnv);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String).join('.') || '(root)';
      problems.push({
        path,
        message: issue.message,
        source: envPaths.has(path) ? 'env' : hasPath(fromFile, path) ? 'file' : 'default',
      });
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const config = parsed.data;
  // "auto" means what kubectl's libraries do: the service account when running in a pod and no
  // kubeconfig was given explicitly.
  if (config.kube.inCluster === 'auto') {
    config.kube.inCluster =
      options.env['KUBERNETES_SERVICE_HOST'] && config.kube.kubeconfig === undefined ? 'always' : 'never';
  }
  // Like kubectl: without KUBECONFIG, ~/.kube/config. Naming the file means a missing one is an
  // error at start, not a silent fallback to http://localhost:8080.
  if (config.kube.inCluster === 'never' && config.kube.kubeconfig === undefined) {
    config.kube.kubeconfig = join(options.env['HOME'] ?? homedir(), '.kube', 'config');
  }
  config.dataDir = isAbsolute(config.dataDir) ? config.dataDir : resolve(cwd, config.dataDir);
  if (config.kube.kubeconfig?.startsWith('~/'))
    config.kube.kubeconfig = resolve(homedir(), config.kube.kubeconfig.slice(2));
  // Another cluster without its own file is a context in the same kubeconfig as `kube`.
  for (const cluster of config.clusters) {
    cluster.kubeconfig ??=
      config.kube.kubeconfig ?? join(options.env['HOME'] ?? homedir(), '.kube', 'config');
    if (cluster.kubeconfig.startsWith('~/'))
      cluster.kubeconfig = resolve(homedir(), cluster.kubeconfig.slice(2));
  }
  return { config, configPath };
}

function readConfigFile(path: string, problems: ConfigProblem[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    problems.push({
      path: '(file)',
      message: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`,
      source: 'file',
    });
    return {};
  }
  const doc = parseDocument(text);
  for (const error of doc.errors) {
    const line = error.linePos?.[0];
    problems.push({
      path: '(file)',
      message: `YAML error${line ? ` at line ${line.line}, column ${line.col}` : ''}: ${error.message.split('\n')[0]}`,
      source: 'file',
    });
  }
  const value: unknown = doc.errors.length ? {} : doc.toJS();
  if (value === null || value === undefined) return {};
  if (!isRecord(value)) {
    problems.push({ path: '(file)', message: 'the config file must hold a YAML mapping', source: 'file' });
    return {};
  }
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (!isRecord(next)) node[key] = {};
    const child = node[key];
    if (isRecord(child)) node = child;
  }
  node[keys[keys.length - 1] ?? path] = value;
}

function hasPath(source: Record<string, unknown>, path: string): boolean {
  let node: unknown = source;
  for (const key of path.split('.')) {
    if (Array.isArray(node) && /^\d+$/.test(key) && Number(key) < node.length) node = node[Number(key)];
    else if (isRecord(node) && key in node) node = node[key];
    else return false;
  }
  return true;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isRecord(current) && isRecord(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** Whether a config path holds a secret; `*` in SECRET_PATHS stands for a list index. */
function isSecretPath(path: string): boolean {
  return SECRET_PATHS.some((secret) =>
    new RegExp(`^${secret.replaceAll('.', '\\.').replaceAll('*', '\\d+')}$`).test(path),
  );
}

/** The config as lines of `path = value`, secrets shown only as set or unset (also inside lists). */
export function describeConfig(config: Config): string[] {
  const lines: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (isSecretPath(path)) {
      lines.push(`${path} = ${value === undefined ? '(unset)' : '(set, hidden)'}`);
    } else if (isRecord(value)) {
      for (const [key, child] of Object.entries(value)) walk(child, path ? `${path}.${key}` : key);
    } else if (Array.isArray(value) && value.some(isRecord)) {
      value.forEach((child, i) => {
        walk(child, `${path}.${i}`);
      });
    } else if (value !== undefined) {
      lines.push(`${path} = ${JSON.stringify(value)}`);
    }
  };
  walk(config, '');
  for (const secret of SECRET_PATHS) {
    if (secret.includes('*')) continue;
    if (!lines.some((l) => l.startsWith(`${secret} =`))) lines.push(`${secret} = (unset)`);
  }
  return lines.sort();
}
