import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { RolloutProgress } from '../../changes/types.ts';
import { renderTerminal } from '../../render/terminal.ts';
import type { Reply, RequestHandler } from '../../runner/types.ts';
import type { Actor } from '../../skills/context.ts';

export interface ConsoleOptions {
  handler: RequestHandler;
  actor: Actor;
  input: Readable;
  output: Writable;
  /** Where attachments (charts, full logs) are saved, since a terminal cannot show them inline. */
  filesDir: string;
  color: boolean;
  /** Printed once at start, e.g. which cluster the console talks to. */
  banner: string;
  /**
   * Finds a configured user for `as <name>`, so one terminal can play requester and approver.
   * Undefined when no such user is configured.
   */
  switchUser?: ((name: string) => Actor | undefined) | undefined;
}

/**
 * The terminal chat: the same road as Slack, one line at a time. Lines are handled in order, so
 * piping a script of commands into it works as well as typing.
 */
export async function runConsole(options: ConsoleOptions): Promise<void> {
  const { output } = options;
  const rl = createInterface({ input: options.input, output, terminal: false });
  const interactive = 'isTTY' in options.input && options.input.isTTY === true;
  const prompt = () => {
    if (interactive) output.write('wh> ');
  };
  output.write(`${options.banner}\nType \`help\` for commands, \`exit\` to leave.\n`);
  let actor = options.actor;
  prompt();
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === 'exit' || line === 'quit') break;
    const as = /^as\s+(\S+)$/.exec(line);
    if (as?.[1]) {
      const next = options.switchUser?.(as[1]);
      output.write(
        next
          ? `Now acting as ${next.name ?? next.id} (Kubernetes user ${next.kube?.user ?? 'of the kubeconfig'}).\n\n`
          : `No configured user "${as[1]}": add it under identity.users in the config.\n\n`,
      );
      if (next) actor = next;
    } else if (line) {
      const reply = await options.handler.handle({
        text: line,
        actor,
        onProgress: progressPrinter(output, options.color),
      });
      const saved = await saveAttachments(reply, options.filesDir);
      output.write(`${renderTerminal(reply, { color: options.color }, saved)}\n\n`);
    }
    prompt();
  }
  rl.close();
}

/**
 * Rollout progress as it happens: one line per change (a terminal has no rate limit, so nothing
 * is coalesced), skipping a line identical to the one before (e.g. only the controller's message
 * changed). Never throws into the request.
 */
function progressPrinter(output: Writable, color: boolean): (progress: RolloutProgress) => void {
  let previous: string | undefined;
  return (progress) => {
    try {
      const line = progressLine(progress, color);
      if (line === previous) return;
      previous = line;
      output.write(`${line}\n`);
    } catch {
      // Progress is a courtesy; the answer still comes.
    }
  };
}

const SHORT_KIND: Record<string, string> = { Deployment: 'deploy', StatefulSet: 'sts', DaemonSet: 'ds' };

/** e.g. "↻ Rolling out deploy/checkout in shop: 2/3 updated · 1/3 ready · 1/3 available" */
export function progressLine(p: RolloutProgress, color = false): string {
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const what = `${SHORT_KIND[p.target.kind] ?? p.target.kind.toLowerCase()}/${p.target.name} in ${p.target.namespace}`;
  const counts = `${p.updated}/${p.desired} updated · ${p.ready}/${p.desired} ready · ${p.available}/${p.desired} available`;
  switch (p.phase) {
    case 'progressing':
      return `${paint(36, '↻')} Rolling out ${what}: ${counts}`;
    case 'done':
      return `${paint(32, '✔')} Rolled out ${what}: ${counts}`;
    case 'failed':
      return [
        `${paint(31, '✖')} Rollout of ${what} failed: ${counts} — ${p.message}`,
        ...(p.problems ?? []).map((problem) => `    ${problem}`),
      ].join('\n');
  }
}

async function saveAttachments(reply: Reply, dir: string): Promise<Map<string, string>> {
  const saved = new Map<string, string>();
  if (!reply.ok || !reply.result.attachments?.length) return saved;
  await mkdir(dir, { recursive: true });
  for (const attachment of reply.result.attachments) {
    const path = join(dir, `${reply.requestId.slice(0, 8)}-${attachment.name.replace(/[^\w.-]/g, '_')}`);
    await writeFile(path, attachment.content);
    saved.set(attachment.name, path);
  }
  return saved;
}
