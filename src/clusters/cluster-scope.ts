import type { ApprovalRecord, ApprovalStore } from '../approvals/types.ts';
import type { RunRecord, RunStore } from '../store/run-store.ts';
import type { AuditLog, Store } from '../store/types.ts';

/**
 * One cluster's share of the shared store. Every feature built for a cluster gets this view, so it
 * sees only its cluster's runs and approvals and cannot step, approve or resume another cluster's
 * work by id, and every audit entry it writes names the cluster.
 *
 * Runs of the bot's own cluster keep their plain kind (`canary`), so a store written before there
 * were several clusters reads the same; another cluster's runs are stored as `canary@prod`.
 * Approvals carry `where.cluster`; one without it belongs to the bot's own cluster.
 */
export interface ClusterScope {
  /** This cluster's name. */
  name: string;
  /** The bot's own cluster (`kube`), which owns what was stored before clusters had names. */
  home: string;
  /** Write the name into audit entries and approvals (only worth it with more than one cluster). */
  tag: boolean;
}

export function scopeStore(store: Store, scope: ClusterScope): Store {
  return {
    kind: store.kind,
    idempotency: store.idempotency,
    ping: () => store.ping(),
    close: () => store.close(),
    runs: scopeRuns(store.runs, scope),
    approvals: scopeApprovals(store.approvals, scope),
    audit: scope.tag ? tagAudit(store.audit, scope.name) : store.audit,
  };
}

/** The cluster an approval is for. */
export function approvalCluster(record: Pick<ApprovalRecord, 'where'>, home: string): string {
  return record.where.cluster ?? home;
}

export function scopeRuns(runs: RunStore, scope: ClusterScope): RunStore {
  const own = scope.name === scope.home;
  const stored = (kind: string) => (own ? kind : `${kind}@${scope.name}`);
  /** The record as the feature knows it, or undefined when it is another cluster's. */
  const mine = (record: RunRecord | undefined): RunRecord | undefined => {
    if (!record) return undefined;
    const at = record.kind.indexOf('@');
    if (own) return at === -1 ? record : undefined;
    return record.kind.endsWith(`@${scope.name}`) ? { ...record, kind: record.kind.slice(0, at) } : undefined;
  };
  return {
    create: async (run, now) => mine(await runs.create({ ...run, kind: stored(run.kind) }, now)),
    get: async (id) => mine(await runs.get(id)),
    byKey: async (kind, key) => mine(await runs.byKey(stored(kind), key)),
    async update(id, version, next, now) {
      if (!mine(await runs.get(id))) return undefined;
      return mine(await runs.update(id, version, next, now));
    },
    list: async (kind, options) =>
      (await runs.list(stored(kind), options)).flatMap((r) => {
        const record = mine(r);
        return record ? [record] : [];
      }),
  };
}

export function scopeApprovals(approvals: ApprovalStore, scope: ClusterScope): ApprovalStore {
  const mine = (record: ApprovalRecord | undefined) =>
    record && approvalCluster(record, scope.home) === scope.name ? record : undefined;
  const where = (w: ApprovalRecord['where']) => (scope.tag ? { ...w, cluster: scope.name } : w);
  /** Acts on an approval only when it is this cluster's; otherwise as if it did not exist. */
  const ifMine = async <T>(id: string, act: () => Promise<T>, otherwise: T): Promise<T> =>
    mine(await approvals.get(id)) ? act() : otherwise;
  return {
    create: (record) => approvals.create({ ...record, where: where(record.where) }),
    get: async (id) => mine(await approvals.get(id)),
    vote: (id, approverId, now) =>
      ifMine(id, () => approvals.vote(id, approverId, now), { kind: 'rejected', reason: 'unknown' }),
    deny: (id, by, reason, now) => ifMine(id, () => approvals.deny(id, by, reason, now), false),
    transition: (id, from, to, reason) => ifMine(id, () => approvals.transition(id, from, to, reason), false),
    // Expiry marks every cluster's approvals (one sweeper serves all); this cluster's are returned.
    expire: async (now) => (await approvals.expire(now)).filter((r) => mine(r)),
    pending: async () => (await approvals.pending()).filter((r) => mine(r)),
    markReminded: (id, now) => ifMine(id, () => approvals.markReminded(id, now), false),
    setMessage: (id, w) => approvals.setMessage(id, where(w)),
  };
}

/** Every entry written through this log names the cluster. */
export function tagAudit(audit: AuditLog, cluster: string): AuditLog {
  return {
    ...audit,
    tail: (n) => audit.tail(n),
    all: (size) => audit.all(size),
    append: (entry) => audit.append({ ...entry, cluster: entry.cluster ?? cluster }),
  };
}
