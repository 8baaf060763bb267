import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ApprovalStore } from '../approvals/types.ts';
import { auditActor } from '../audit/audit-record.ts';
import { recordReply, replyOutcome } from '../audit/record-reply.ts';
import { WheelhouseError } from '../errors.ts';
import { didYouMean } from '../planner/did-you-mean.ts';
import { stripPrefix } from '../planner/grammar.ts';
import type { ChatRequest, Reply, RequestHandler } from '../runner/types.ts';
import type { ChatNotifier } from '../runner/verification-keeper.ts';
import type { SkillResult } from '../skills/result.ts';
import type { AuditLog } from '../store/types.ts';
import { approvalCluster } from './cluster-scope.ts';

/** One cluster as the router sees it: its whole request chain, and how it is doing. */
export interface ClusterRoute {
  name: string;
  handler: RequestHandler;
  /** Slack channels whose requests come here when they name no cluster. */
  channels: readonly string[];
  /** For `clusters`: the API server, and which caches have not synced (and why). */
  status(): {
    server: string;
    context: string;
    pending: Array<{ resource: string; error: string | undefined }>;
  };
}

export interface ClusterRouterOptions {
  clusters: readonly ClusterRoute[];
  /** Where requests go that neither say `--cluster` nor come from a cluster's channel. */
  defaultCluster: string;
  /** The bot's own cluster, which owns approvals stored without a cluster. */
  home: string;
  /** All clusters' approvals, to send a vote where its change is. */
  approvals: ApprovalStore;
  /** For the requests the router answers itself (an unknown cluster, `clusters`). */
  audit: AuditLog;
  logger: Logger;
  now?: () => Date;
}

/**
 * The front of the road when Wheelhouse serves several clusters: picks the cluster a request is
 * for and hands it to that cluster's own chain (its caches, policy, approvals and store scope).
 * The cluster is, in order: `--cluster NAME` in the text, the cluster of the change an
 * `approve`/`deny` votes on, the channel's cluster, the default. With more than one cluster,
 * every answer says which one it is about and every button it carries names it, so a click lands
 * on the same cluster whatever channel the message is in.
 */
export function createClusterRouter(options: ClusterRouterOptions): RequestHandler {
  const byName = new Map(options.clusters.map((c) => [c.name, c]));
  const byChannel = new Map(options.clusters.flatMap((c) => c.channels.map((ch) => [ch, c.name] as const)));
  const several = options.clusters.length > 1;
  const now = options.now ?? (() => new Date());

  /** A reply the router gives itself, audited like every other request. */
  async function answer(
    request: ChatRequest,
    started: number,
    result: SkillResult | WheelhouseError,
    skill: string,
  ): Promise<Reply> {
    const requestId = request.requestId ?? randomUUID();
    const durationMs = Math.round(performance.now() - started);
    const reply: Reply =
      result instanceof WheelhouseError
        ? { ok: false, requestId, skill, durationMs, error: result }
        : { ok: true, requestId, skill, durationMs, result };
    const entry = {
      type: 'request',
      requestId,
      time: now().toISOString(),
      actor: auditActor(request.actor),
      text: request.text,
      plan: null,
      skill,
      input: null,
      outcome: replyOutcome(reply),
      errorCode: reply.ok ? null : reply.error.code,
      message: reply.ok ? reply.result.summary : reply.error.message,
      durationMs,
    };
    return recordReply(options.audit, entry, reply, options.logger);
  }

  return {
    async handle(request) {
      const started = performance.now();
      const flag = takeClusterFlag(request.text);
      if (flag.kind === 'missing') {
        return answer(
          request,
          started,
          new WheelhouseError('GRAMMAR', '`--cluster` needs a cluster name.', {
            hint: `Known clusters: ${[...byName.keys()].join(', ')}.`,
          }),
          'clusters',
        );
      }
      const words = stripPrefix(flag.text).split(/\s+/);
      if (words[0]?.toLowerCase() === 'clusters' && words.length === 1) {
        return answer(request, started, clusterList(options), 'clusters');
      }
      const name =
        flag.cluster ??
        (await votedCluster(words, options)) ??
        (request.actor.channel ? byChannel.get(request.actor.channel) : undefined) ??
        options.defaultCluster;
      const route = byName.get(name);
      if (!route) {
        const close = didYouMean(name, [...byName.keys()]);
        return answer(
          request,
          started,
          new WheelhouseError('NOT_FOUND', `There is no cluster "${name}".`, {
            hint: `${close.length ? `Did you mean ${close.map((c) => `\`${c}\``).join(' or ')}? ` : ''}Known clusters: ${[...byName.keys()].join(', ')} (\`/wh clusters\`).`,
          }),
          'clusters',
        );
      }
      const reply = await route.handler.handle({ ...request, text: flag.text });
      if (!several) return reply;
      if (!reply.ok) return { ...reply, error: onClusterError(reply.error, name) };
      const result = onCluster(reply.result, name);
      if (words[0]?.toLowerCase() === 'help' && words.length === 1)
        result.sections.push(clusterHelp(options));
      return { ...reply, result };
    },
  };
}

/** The text without `--cluster NAME` (or `--cluster=NAME`), and the name. */
export function takeClusterFlag(
  text: string,
): { kind: 'given'; text: string; cluster: string | undefined } | { kind: 'missing'; text: string } {
  const match = /(^|\s)--cluster(?:=|\s+)([^\s-][^\s]*)/.exec(text);
  if (match) {
    // The flag and the space before it go; the rest of the text stays as typed.
    const rest = `${text.slice(0, match.index)}${text.slice(match.index + match[0].length)}`.trim();
    return { kind: 'given', text: rest, cluster: match[2]?.toLowerCase() };
  }
  if (/(^|\s)--cluster(=|\s*$|\s+-)/.test(text)) return { kind: 'missing', text };
  return { kind: 'given', text, cluster: undefined };
}

/** A result marked with its cluster, with every button's command naming it too. */
export function onCluster(result: SkillResult, cluster: string): SkillResult {
  return {
    ...result,
    cluster,
    sections: result.sections.map((s) =>
      s.type === 'actions'
        ? { ...s, actions: s.actions.map((a) => ({ ...a, command: withCluster(a.command, cluster) })) }
        : s,
    ),
  };
}

/** The command with `--cluster NAME`, unless it names a cluster already. */
export function withCluster(command: string, cluster: string): string {
  return /(^|\s)--cluster[=\s]/.test(command) ? command : `${command} --cluster ${cluster}`;
}

function onClusterError(error: WheelhouseError, cluster: string): WheelhouseError {
  const unreachable = error.code === 'KUBE_UNREACHABLE' || error.code === 'TIMEOUT';
  return new WheelhouseError(error.code, `Cluster ${cluster}: ${error.message}`, {
    hint: unreachable
      ? `${error.hint ? `${error.hint} ` : ''}Other clusters are not affected; \`/wh clusters\` shows which ones answer.`
      : error.hint,
    detail: error.detail,
    cause: error.cause ?? error,
  });
}

/** `approve ID` and `deny ID …` go to the cluster of the change they vote on. */
async function votedCluster(words: string[], options: ClusterRouterOptions): Promise<string | undefined> {
  const [verb, id] = words;
  if (!id || !/^(approve|deny)$/i.test(verb ?? '')) return undefined;
  const record = await options.approvals.get(id).catch(() => undefined);
  return record ? approvalCluster(record, options.home) : undefined;
}

function clusterList(options: ClusterRouterOptions): SkillResult {
  const rows = options.clusters.map((c) => {
    const status = c.status();
    const state = status.pending.length
      ? `not synced: ${status.pending.map((p) => p.resource).join(', ')}${status.pending[0]?.error ? ` (${status.pending[0].error})` : ''}`
      : 'ready';
    return [
      c.name + (c.name === options.defaultCluster ? ' (default)' : ''),
      status.server,
      status.context,
      c.channels.length ? c.channels.join(', ') : '-',
      state,
    ];
  });
  const down = rows.filter((r) => r[4] !== 'ready').length;
  return {
    summary: `${options.clusters.length} cluster${options.clusters.length === 1 ? '' : 's'}${down ? `, ${down} not ready` : ', all ready'}`,
    tone: down ? 'warning' : 'info',
    sections: [
      { type: 'table', columns: ['Cluster', 'API server', 'Context', 'Channels', 'Caches'], rows },
      {
        type: 'text',
        text: "Add `--cluster NAME` to any command; without it a channel's cluster or the default is used.",
      },
    ],
  };
}

function clusterHelp(options: ClusterRouterOptions): SkillResult['sections'][number] {
  return {
    type: 'text',
    text: `Clusters: ${options.clusters.map((c) => c.name).join(', ')} (default ${options.defaultCluster}). Add \`--cluster NAME\` to any command; \`clusters\` lists them and whether they answer.`,
  };
}

/** Views posted outside a reply (canary and pipeline messages, notices) marked with their cluster too. */
export const label = {
  reporter: <W, M>(
    inner: { show(where: W, message: M, view: SkillResult): Promise<M> },
    cluster: string,
  ) => ({
    show: (where: W, message: M, view: SkillResult) => inner.show(where, message, onCluster(view, cluster)),
  }),
  poster: <W, M>(
    inner: {
      post(where: W, view: SkillResult): Promise<M>;
      update(message: M, view: SkillResult): Promise<void>;
    },
    cluster: string,
  ) => ({
    post: (where: W, view: SkillResult) => inner.post(where, onCluster(view, cluster)),
    update: (message: M, view: SkillResult) => inner.update(message, onCluster(view, cluster)),
  }),
  /** A notifier for one cluster's notices, or (without a name) for notices whose `where` names theirs. */
  notifier: (inner: ChatNotifier, cluster?: string): ChatNotifier => ({
    notify: (where, result) => {
      const name = cluster ?? where.cluster;
      return inner.notify(where, name ? onCluster(result, name) : result);
    },
  }),
};
