#!/usr/bin/env node
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { verifyChain } from './audit/audit-record.ts';
import { takeClusterFlag } from './clusters/cluster-router.ts';
import { clusterSpecs, defaultClusterOf } from './clusters/cluster-specs.ts';
import { ConfigError, describeConfig, ENV_VARS, formatProblems, loadConfig } from './config/load-config.ts';
import type { Config } from './config/schema.ts';
import { isWheelhouseError, type WheelhouseError } from './errors.ts';
import {
  EXPLAIN_EXIT_CODES,
  type ExplainQuestion,
  explainRequest,
  formatExplanation,
} from './policy/explain.ts';
import { SkillRegistry } from './skills/registry.ts';
import { openStore } from './store/open-store.ts';

const HELP: Record<string, string> = {
  main: `wheelhouse — a Kubernetes ChatOps/AIOps bot

Usage: wheelhouse [command] [options]

Commands:
  (none)          console when no Slack tokens are configured, else serve
  serve           answer Slack (Socket Mode or HTTP) and serve /healthz, /readyz, /metrics
  console         chat with Wheelhouse in this terminal, against the current kube context
  config check    validate the configuration and print every problem at once
  audit verify    check the audit hash chain; names the first edited, deleted or reordered record
  audit tail      print the newest audit records
  policy explain  what policy would decide if a user asked for a command in a channel

Global options:
  -c, --config FILE   YAML config file (or env WH_CONFIG)
  -h, --help          help for any command`,
  serve: `Usage: wheelhouse serve [--config FILE]

Starts the Slack surface (Socket Mode with SLACK_APP_TOKEN, or HTTP mode with
SLACK_SIGNING_SECRET and WH_SLACK_MODE=http) and the HTTP server on WH_HTTP_HOST:WH_HTTP_PORT
with /healthz, /readyz and /metrics (and /slack/events in HTTP mode).
Without a Slack bot token only the HTTP server runs. SIGTERM or SIGINT stops it gracefully.`,
  console: `Usage: wheelhouse console [--config FILE] [--as USER] [--as-group GROUP]... [--context NAME]

Chat with Wheelhouse in the terminal. Requests act as your kubeconfig identity, like kubectl,
unless --as impersonates another user (and --as-group its groups). Charts and full logs are
saved as files under the data directory and their paths printed. Type "exit" to leave.`,
  config: `Usage: wheelhouse config check [--config FILE]

Loads the config file and environment, prints every problem with its path and what is expected,
or the effective configuration with secrets hidden. Exits 1 when there are problems.

Environment variables:
${ENV_VARS.map((v) => `  ${v.name.padEnd(22)} ${v.path.padEnd(28)} ${v.description}`).join('\n')}`,
  audit: `Usage: wheelhouse audit verify [--config FILE]
       wheelhouse audit tail [-n COUNT] [--json] [--config FILE]

verify walks the hash chain and exits 1 naming the first record that was edited, deleted or
reordered. tail prints the newest records (default 20), or JSON lines with --json.`,
  policy: `Usage: wheelhouse policy explain --user USER [--channel CHANNEL] [--group GROUP]...
                                [--at TIME] [--recent-writes N] [--cluster NAME] [--config FILE] "COMMAND"

Answers "what would happen if USER asked for COMMAND in CHANNEL": maps USER with the identity
config (Slack id, email or Kubernetes user; anyone else is unmapped), parses COMMAND with the chat
grammar, evaluates the policy at TIME (ISO 8601 such as 2026-11-27T17:00:00Z; default now) with N
writes already made in the rate-limit window (default 0), and prints the decision, the approvers
needed and every rule that had a say. --group adds Kubernetes groups to the user's. With several
clusters the policy is the one of --cluster (or COMMAND's --cluster, the channel's cluster, the
default). Quote COMMAND.

Exit codes: 0 allowed, 3 requires approval, 4 denied, 1 configuration problems,
2 usage mistakes or a COMMAND that does not parse.`,
};

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  as: { type: 'string' },
  'as-group': { type: 'string', multiple: true },
  context: { type: 'string' },
  n: { type: 'string', short: 'n' },
  json: { type: 'boolean' },
  user: { type: 'string' },
  channel: { type: 'string' },
  group: { type: 'string', multiple: true },
  at: { type: 'string' },
  'recent-writes': { type: 'string' },
  cluster: { type: 'string' },
} as const;

type ParsedArgs = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;

const COMMANDS = new Set(['serve', 'console', 'config', 'audit', 'policy']);

/** Runs the CLI; returns the process exit code. */
export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : e}\nRun \`wheelhouse --help\` for usage.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, sub] = positionals;
  if (values.help || command === 'help') {
    process.stdout.write(`${HELP[(command === 'help' ? sub : command) ?? 'main'] ?? HELP['main']}\n`);
    return 0;
  }

  // Usage mistakes exit 2 before the config is read, so a broken config cannot hide them.
  if (command !== undefined && !COMMANDS.has(command)) {
    process.stderr.write(`Unknown command "${command}".\n\n${HELP['main']}\n`);
    return 2;
  }
  if (command === 'config' && sub !== 'check') return usage('config');
  if (command === 'audit' && sub !== 'verify' && sub !== 'tail') return usage('audit');
  let question: ExplainQuestion | undefined;
  if (command === 'policy') {
    const asked = policyQuestion(sub, positionals.slice(2), values);
    if (typeof asked === 'string') {
      process.stderr.write(`${asked}\n\n${HELP['policy']}\n`);
      return 2;
    }
    question = asked;
  }
  let config: Config;
  try {
    config = loadConfig({ env, configPath: values.config }).config;
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`Configuration problems (${e.problems.length}):\n${formatProblems(e.problems)}\n`);
      return 1;
    }
    throw e;
  }
  if (values.context) config.kube.context = values.context;

  try {
    return await run(command, sub, config, values, question);
  } catch (e) {
    // A coded error at startup (unreadable kubeconfig, unknown context, …) is the operator's to fix:
    // say what and how, not a stack trace.
    if (isWheelhouseError(e)) {
      process.stderr.write(describeFatal(e));
      return 1;
    }
    throw e;
  }
}

function describeFatal(e: WheelhouseError): string {
  const lines = [`wheelhouse: ${e.message}`];
  if (e.hint) lines.push(`  ${e.hint}`);
  lines.push(`  (${e.code}${typeof e.detail === 'string' ? `: ${e.detail}` : ''})`);
  return `${lines.join('\n')}\n`;
}

async function run(
  command: string | undefined,
  sub: string | undefined,
  config: Config,
  values: ParsedArgs['values'],
  question: ExplainQuestion | undefined,
): Promise<number> {
  switch (command) {
    case 'config':
      process.stdout.write(`Configuration is valid.\n${describeConfig(config).join('\n')}\n`);
      return 0;
    case 'audit':
      return sub === 'verify'
        ? auditVerify(config)
        : auditTail(config, Number(values.n ?? 20), values.json ?? false);
    case 'policy':
      return question ? policyExplain(config, question) : usage('policy');
    case 'serve':
      return (await loadMain()).runServeCommand(config);
    case 'console':
      return (await loadMain()).runConsoleCommand(config, consoleIdentity(values.as, values['as-group']));
    case undefined: {
      const { runConsoleCommand, runServeCommand } = await loadMain();
      return config.slack.botToken
        ? runServeCommand(config)
        : runConsoleCommand(config, consoleIdentity(values.as, values['as-group']));
    }
    default:
      return usage('main');
  }
}

/**
 * The composition root pulls in Slack, Kubernetes, Elasticsearch and chart rendering (about a
 * second of imports); help, config check and audit do not need any of it.
 */
function loadMain(): Promise<typeof import('./main.ts')> {
  return import('./main.ts');
}

function usage(command: string): number {
  process.stderr.write(`${HELP[command]}\n`);
  return 2;
}

function consoleIdentity(as: string | undefined, groups: string[] | undefined) {
  return { osUser: userInfo().username, kube: as ? { user: as, groups: groups ?? [] } : undefined };
}

/** The question of `policy explain`, or what is wrong with how it was asked. */
function policyQuestion(
  sub: string | undefined,
  words: string[],
  values: ParsedArgs['values'],
): (ExplainQuestion & { cluster?: string | undefined }) | string {
  if (sub !== 'explain')
    return sub === undefined
      ? 'Which policy command? Only `explain` exists.'
      : `Unknown policy command "${sub}".`;
  if (!values.user) return 'policy explain needs --user (a Slack user id, email or Kubernetes user).';
  if (values.n !== undefined) return 'Quote the command, so that its own flags (such as -n) reach it.';
  const text = words.join(' ').trim();
  if (!text) return 'policy explain needs the command to explain, in quotes.';
  // Policy windows are in UTC; a time without a zone would silently be local time.
  const at = values.at === undefined ? new Date() : new Date(values.at);
  if (Number.isNaN(at.getTime()) || (values.at !== undefined && !/T.*(Z|[+-]\d\d:?\d\d)$/i.test(values.at)))
    return `--at "${values.at}" is not a time with a zone; use ISO 8601 such as 2026-11-27T17:00:00Z.`;
  const recentWrites = values['recent-writes'] === undefined ? 0 : Number(values['recent-writes']);
  if (!Number.isInteger(recentWrites) || recentWrites < 0)
    return '--recent-writes must be a whole number, 0 or more.';
  return {
    text,
    user: values.user,
    channel: values.channel,
    groups: values.group,
    at,
    recentWrites,
    cluster: values.cluster,
  };
}

async function policyExplain(
  config: Config,
  question: ExplainQuestion & { cluster?: string | undefined },
): Promise<number> {
  // The skills pull in their renderers and the kube helpers; only explain needs them.
  const { skills } = await import('../skills/index.ts');
  // The policy of the cluster the command would go to, as the cluster router picks it.
  const specs = clusterSpecs(config);
  const flag = takeClusterFlag(question.text);
  const named =
    question.cluster ??
    (flag.kind === 'given' ? flag.cluster : undefined) ??
    specs.find((s) => question.channel !== undefined && s.channels.includes(question.channel))?.name ??
    defaultClusterOf(config);
  const spec = specs.find((s) => s.name === named);
  if (!spec) {
    process.stderr.write(`There is no cluster "${named}"; known: ${specs.map((s) => s.name).join(', ')}.\n`);
    return 2;
  }
  if (specs.length > 1) process.stdout.write(`Cluster: ${spec.name}\n`);
  let explanation: ReturnType<typeof explainRequest>;
  try {
    explanation = explainRequest(
      { ...question, text: flag.text },
      {
        policy: spec.policy,
        identity: config.identity,
        registry: new SkillRegistry(skills),
      },
    );
  } catch (e) {
    if (!isWheelhouseError(e)) throw e;
    process.stderr.write(`${e.message}${e.hint ? `\n  ${e.hint}` : ''}\n`);
    return 2;
  }
  process.stdout.write(formatExplanation(explanation));
  return EXPLAIN_EXIT_CODES[explanation.decision.effect];
}

async function auditVerify(config: Config): Promise<number> {
  const store = await openStore(config);
  try {
    const report = await verifyChain(store.audit.all());
    if (report.ok) {
      process.stdout.write(`Audit chain intact: ${report.checked} record(s) verified.\n`);
      return 0;
    }
    process.stdout.write(
      `Audit chain BROKEN after ${report.checked} good record(s): ${report.problem?.message ?? 'unknown problem'}\n`,
    );
    return 1;
  } finally {
    await store.close();
  }
}

async function auditTail(config: Config, count: number, json: boolean): Promise<number> {
  if (!Number.isInteger(count) || count <= 0) {
    process.stderr.write('-n must be a positive whole number.\n');
    return 2;
  }
  const store = await openStore(config);
  try {
    for (const r of await store.audit.tail(count)) {
      const who = [
        r.actor.surface,
        r.actor.name ?? r.actor.id,
        r.actor.kubeUser ? `as ${r.actor.kubeUser}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      process.stdout.write(
        json
          ? `${JSON.stringify(r)}\n`
          : `#${r.seq} ${r.time}${r.cluster ? ` [${r.cluster}]` : ''} ${who}${r.actor.channel ? ` in ${r.actor.channel}` : ''} ${JSON.stringify(r.text)} → ${r.outcome}${r.errorCode ? ` ${r.errorCode}` : ''} (${r.durationMs} ms) ${r.message}\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}

if (import.meta.main) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`wheelhouse: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
