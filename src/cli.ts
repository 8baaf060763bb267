#!/usr/bin/env node
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { verifyChain } from './audit/audit-record.ts';
import { ConfigError, describeConfig, ENV_VARS, formatProblems, loadConfig } from './config/load-config.ts';
import type { Config } from './config/schema.ts';
import { isWheelhouseError, type WheelhouseError } from './errors.ts';
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
};

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  help: { type: 'boolean', short: 'h' },
  as: { type: 'string' },
  'as-group': { type: 'string', multiple: true },
  context: { type: 'string' },
  n: { type: 'string', short: 'n' },
  json: { type: 'boolean' },
} as const;

type ParsedArgs = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;

const COMMANDS = new Set(['serve', 'console', 'config', 'audit']);

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
    return await run(command, sub, config, values);
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
): Promise<number> {
  switch (command) {
    case 'config':
      process.stdout.write(`Configuration is valid.\n${describeConfig(config).join('\n')}\n`);
      return 0;
    case 'audit':
      return sub === 'verify'
        ? auditVerify(config)
        : auditTail(config, Number(values.n ?? 20), values.json ?? false);
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
          : `#${r.seq} ${r.time} ${who}${r.actor.channel ? ` in ${r.actor.channel}` : ''} ${JSON.stringify(r.text)} → ${r.outcome}${r.errorCode ? ` ${r.errorCode}` : ''} (${r.durationMs} ms) ${r.message}\n`,
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
