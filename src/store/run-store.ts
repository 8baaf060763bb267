/**
 * Long-lived work that must survive a restart or move to another replica: in-flight rollout
 * verifications, alert threads, canary runs, pipeline runs. One table for all of them; each
 * kind owns the shape of its `state` and parses it on the way out (zod), like every other edge.
 */
export interface RunRecord {
  id: string;
  /** What sort of run, e.g. `verification`, `alert-thread`, `canary`, `pipeline`. */
  kind: string;
  /** An optional natural key, unique per kind (an alert group key, a pipeline run name). */
  key: string | undefined;
  /** Free per kind; `list` filters on it (e.g. `active`, `done`). */
  status: string;
  state: unknown;
  /** Bumped by every update: compare-and-set, so two replicas never both step a run. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface NewRun {
  id: string;
  kind: string;
  key?: string | undefined;
  status: string;
  state: unknown;
}

export interface RunStore {
  /** Inserts a run at version 1; undefined when a run of that kind with that key exists already. */
  create(run: NewRun, now: Date): Promise<RunRecord | undefined>;
  get(id: string): Promise<RunRecord | undefined>;
  byKey(kind: string, key: string): Promise<RunRecord | undefined>;
  /**
   * Replaces status and/or state if and only if the run is still at `version`; returns the new
   * record, or undefined when someone else updated it first (read again and decide again).
   */
  update(
    id: string,
    version: number,
    next: { status?: string; state?: unknown },
    now: Date,
  ): Promise<RunRecord | undefined>;
  /** Runs of a kind, oldest first, optionally only those in the given statuses. */
  list(kind: string, options?: { status?: readonly string[]; limit?: number }): Promise<RunRecord[]>;
}
