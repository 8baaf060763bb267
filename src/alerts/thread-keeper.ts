import type { Logger } from 'pino';
import type { SkillResult } from '../skills/result.ts';
import type { RunRecord, RunStore } from '../store/run-store.ts';
import type { AlertRoute } from './alert-routing.ts';
import { routeAlert } from './alert-routing.ts';
import type { WebhookPayload } from './alertmanager-payload.ts';
import type { IncidentPoster } from './incident-poster.ts';
import {
  ALERT_THREAD_KIND,
  applyNotification,
  groupLabelsOf,
  type IncidentState,
  type IncidentWorkload,
  initialState,
  parseIncidentState,
  runStatusOf,
} from './incident-state.ts';
import type { IncidentView } from './incident-view.ts';

/** Time and timers, injectable so unit tests never wait. */
export interface KeeperClock {
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  schedule(fn: () => void, ms: number): () => void;
}

export const systemKeeperClock: KeeperClock = {
  now: () => Date.now(),
  schedule(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export interface ThreadKeeperOptions {
  runs: RunStore;
  poster: IncidentPoster;
  routes: readonly AlertRoute[];
  defaultChannel: string | undefined;
  logger: Logger;
  /** This process, for claims other replicas can see (host + pid + random). */
  replicaId: string;
  newId: () => string;
  /** Builds the root message of a thread. */
  view: (id: string, state: IncidentState, now: Date) => IncidentView;
  clock?: KeeperClock | undefined;
  /** Least time between two updates of one root message. @default 10000 */
  updateIntervalMs?: number | undefined;
  /** A claim (posting the root, enriching) older than this is taken over. @default 60000 */
  claimTtlMs?: number | undefined;
  /** Looks up the workload the labels name (before the root is posted, for its buttons). */
  resolveWorkload?: ((state: IncidentState) => Promise<IncidentWorkload | null>) | undefined;
  /** The enrichment posted into a new thread; undefined turns enrichment off. */
  enrich?: ((id: string, state: IncidentState) => Promise<SkillResult[]>) | undefined;
  /** Enrichments at once. @default 4 */
  enrichmentConcurrency?: number | undefined;
  /** Called when a thread's enrichment is posted, with the seconds since the alert was received. */
  onEnriched?: ((seconds: number) => void) | undefined;
}

/** What one notification did. */
export interface Received {
  id: string;
  /** A new thread was opened for the group. */
  created: boolean;
  /** False for an identical repeat (a retry, a replay): nothing new to show. */
  changed: boolean;
  channel: string;
}

/** Tries of a compare-and-set before giving up (another replica keeps winning). */
const MAX_CAS_TRIES = 25;

/**
 * Keeps one thread per alert group for the group's life. Notifications are folded into the
 * group's run in the store (compare-and-set, so replicas never both step it); a sync per run then
 * makes Slack show the state: post the root once (the replica that claims it posts it), add
 * thread notes, update the root at most once per update interval, post the enrichment. Every step
 * is claimed in the store before the chat call, so a restart or a second replica carries on
 * without a second root; a sweep picks up whatever a crash left undone.
 */
export class ThreadKeeper {
  readonly #o: ThreadKeeperOptions;
  readonly #clock: KeeperClock;
  readonly #interval: number;
  readonly #claimTtl: number;
  /** Per group key: notifications are applied one after another in this process. */
  readonly #receiving = new Map<string, Promise<unknown>>();
  /** Per run: one sync at a time; a request during a sync runs it once more afterwards. */
  readonly #syncing = new Map<string, { again: boolean; done: Promise<void> }>();
  readonly #timers = new Map<string, () => void>();
  readonly #enriching = new Set<Promise<void>>();
  readonly #limit: <T>(work: () => Promise<T>) => Promise<T>;
  #cancelSweep: (() => void) | undefined;
  #stopped = false;

  constructor(options: ThreadKeeperOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemKeeperClock;
    this.#interval = options.updateIntervalMs ?? 10_000;
    this.#claimTtl = options.claimTtlMs ?? 60_000;
    this.#limit = limiter(options.enrichmentConcurrency ?? 4);
  }

  /** Folds a notification into its group's run (creating it first), then syncs the thread in the background. */
  receive(payload: WebhookPayload): Promise<Received> {
    const key = payload.groupKey;
    const previous = this.#receiving.get(key) ?? Promise.resolve();
    const result = previous.catch(() => undefined).then(() => this.#apply(payload));
    const tail = result.catch(() => undefined);
    this.#receiving.set(key, tail);
    void tail.then(() => {
      if (this.#receiving.get(key) === tail) this.#receiving.delete(key);
    });
    return result;
  }

  async #apply(payload: WebhookPayload): Promise<Received> {
    const now = new Date(this.#clock.now());
    for (let attempt = 0; attempt < MAX_CAS_TRIES; attempt += 1) {
      const existing = await this.#o.runs.byKey(ALERT_THREAD_KIND, payload.groupKey);
      if (existing === undefined) {
        const route = routeAlert(groupLabelsOf(payload), this.#o.routes, this.#o.defaultChannel);
        if (route === undefined) throw new Error('no route matches and no default channel is configured');
        const state = initialState(payload, route, now, this.#o.enrich !== undefined);
        // Created by key first: whoever creates the run posts the root; everyone else updates it.
        const created = await this.#o.runs.create(
          {
            id: this.#o.newId(),
            kind: ALERT_THREAD_KIND,
            key: payload.groupKey,
            status: runStatusOf(state),
            state,
          },
          now,
        );
        if (created === undefined) continue;
        this.kick(created.id);
        return { id: created.id, created: true, changed: true, channel: state.channel };
      }
      const { state, changed } = applyNotification(parseIncidentState(existing.state), payload, now);
      if (!changed) {
        // An identical repeat: nothing to show, and no write that would contend in a storm.
        return { id: existing.id, created: false, changed: false, channel: state.channel };
      }
      const updated = await this.#o.runs.update(
        existing.id,
        existing.version,
        { state, status: runStatusOf(state) },
        now,
      );
      if (updated === undefined) continue;
      this.kick(existing.id);
      return { id: existing.id, created: false, changed: true, channel: state.channel };
    }
    throw new Error(`the alert group ${payload.groupKey} kept changing under us; Alertmanager will retry`);
  }

  /** Makes the thread show the run's state, soon; never throws (failures are retried by the sweep). */
  kick(id: string): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const running = this.#syncing.get(id);
    if (running) {
      running.again = true;
      return running.done;
    }
    const entry = { again: true, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        while (entry.again && !this.#stopped) {
          entry.again = false;
          try {
            await this.#syncOnce(id);
          } catch (error) {
            this.#o.logger.warn(
              { err: error, incident: id },
              'Could not bring the alert thread up to date; will retry',
            );
            this.#later(id, Math.min(this.#claimTtl, 15_000));
          }
        }
      } finally {
        this.#syncing.delete(id);
      }
    })();
    this.#syncing.set(id, entry);
    return entry.done;
  }

  /** Resolves when no sync and no enrichment is running (timers for later updates may remain). */
  async settled(): Promise<void> {
    for (;;) {
      const work = [...this.#syncing.values()].map((e) => e.done);
      const all = [...work, ...this.#enriching, ...this.#receiving.values()];
      if (all.length === 0) return;
      await Promise.allSettled(all);
    }
  }

  /** Picks up runs a crash or a failed chat call left behind, now and every `everyMs`. */
  startSweeping(everyMs = 30_000): void {
    const sweep = (): void => {
      this.sweep().catch((error: unknown) =>
        this.#o.logger.warn({ err: error }, 'Alert thread sweep failed'),
      );
      this.#cancelSweep = this.#clock.schedule(sweep, everyMs);
    };
    sweep();
  }

  /** Syncs every run that still has something to show. */
  async sweep(): Promise<number> {
    const open = await this.#o.runs.list(ALERT_THREAD_KIND, { status: ['firing', 'resolved'], limit: 5000 });
    let kicked = 0;
    for (const run of open) {
      if (this.#needsWork(parseIncidentState(run.state))) {
        kicked += 1;
        void this.kick(run.id);
      }
    }
    return kicked;
  }

  /** Stops timers and waits for work in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelSweep?.();
    for (const cancel of this.#timers.values()) cancel();
    this.#timers.clear();
    await this.settled();
  }

  #needsWork(s: IncidentState): boolean {
    return (
      s.root === undefined ||
      s.root.shownRevision < s.revision ||
      s.notesPosted < s.notes.length ||
      (s.enrichment === 'pending' && this.#o.enrich !== undefined)
    );
  }

  #later(id: string, ms: number): void {
    if (this.#stopped || this.#timers.has(id)) return;
    const cancel = this.#clock.schedule(
      () => {
        this.#timers.delete(id);
        void this.kick(id);
      },
      Math.max(0, ms),
    );
    this.#timers.set(id, cancel);
  }

  async #syncOnce(id: string): Promise<void> {
    let run = await this.#o.runs.get(id);
    if (run === undefined) return;
    let state = parseIncidentState(run.state);
    const me = this.#o.replicaId;

    // 1. The root message: posted once, by whoever holds the posting claim.
    if (state.root === undefined) {
      const now = this.#clock.now();
      const claim = state.posting;
      if (claim && claim.by !== me && now - Date.parse(claim.at) < this.#claimTtl) {
        // Another replica is posting it right now; look again once its claim would have expired.
        this.#later(id, Date.parse(claim.at) + this.#claimTtl - now);
        return;
      }
      const workload =
        state.workload !== undefined || this.#o.resolveWorkload === undefined
          ? state.workload
          : await this.#o.resolveWorkload(state).catch((error: unknown) => {
              this.#o.logger.info({ err: error, incident: id }, 'Could not resolve the workload of an alert');
              return null;
            });
      const claimed = await this.#o.runs.update(
        id,
        run.version,
        { state: { ...state, workload, posting: { by: me, at: new Date(now).toISOString() } } },
        new Date(now),
      );
      if (claimed === undefined) return this.#again(id);
      state = parseIncidentState(claimed.state);
      const shown = state.revision;
      const { ts } = await this.#o.poster.post(state.channel, this.#o.view(id, state, new Date(now)));
      // The interval counts from when the post landed: a Retry-After wait must not shorten it.
      const posted = new Date(Math.max(now, this.#clock.now())).toISOString();
      run = await this.#mutate(id, (s) => ({
        ...s,
        root: { ts, channel: s.channel, shownRevision: shown, updatedAt: posted },
        posting: undefined,
      }));
      if (run === undefined) return;
      state = parseIncidentState(run.state);
    }
    const root = state.root;
    if (root === undefined) return;

    // 2. Thread notes, in order; each is claimed before it is posted, so none is posted twice.
    while (state.notesPosted < state.notes.length) {
      const index = state.notesPosted;
      const note = state.notes[index];
      const claimed = await this.#mutate(id, (s) =>
        s.notesPosted === index ? { ...s, notesPosted: index + 1 } : undefined,
      );
      if (claimed === undefined || note === undefined) break;
      state = parseIncidentState(claimed.state);
      await this.#o.poster
        .reply(root.channel, root.ts, {
          summary: note.text,
          tone: note.tone,
          sections: note.items.length ? [{ type: 'list', items: note.items }] : [],
        })
        .catch((error: unknown) =>
          this.#o.logger.warn({ err: error, incident: id }, 'Could not post a note into the alert thread'),
        );
    }

    // 3. The root message follows the state, at most once per update interval.
    if (root.shownRevision < state.revision) {
      const now = this.#clock.now();
      const due = Date.parse(root.updatedAt) + this.#interval;
      if (now < due) {
        this.#later(id, due - now);
      } else {
        const revision = state.revision;
        const claimed = await this.#mutate(id, (s) =>
          s.root && s.root.shownRevision < revision && Date.parse(s.root.updatedAt) + this.#interval <= now
            ? { ...s, root: { ...s.root, shownRevision: revision, updatedAt: new Date(now).toISOString() } }
            : undefined,
        );
        if (claimed !== undefined) {
          state = parseIncidentState(claimed.state);
          try {
            await this.#o.poster.update(root.channel, root.ts, this.#o.view(id, state, new Date(now)));
          } catch (error) {
            // Shown is not what was claimed: let the next sync try again after the interval.
            await this.#mutate(id, (s) =>
              s.root && s.root.shownRevision === revision
                ? { ...s, root: { ...s.root, shownRevision: root.shownRevision } }
                : undefined,
            );
            throw error;
          }
          // The update may have waited for the chat.update budget or a Retry-After: the next one is
          // due an interval after this one landed, not after it was claimed.
          const landed = this.#clock.now();
          if (landed > now) {
            const after = await this.#mutate(id, (s) =>
              s.root && s.root.ts === root.ts && Date.parse(s.root.updatedAt) < landed
                ? { ...s, root: { ...s.root, updatedAt: new Date(landed).toISOString() } }
                : undefined,
            );
            if (after !== undefined) state = parseIncidentState(after.state);
          }
          if (state.revision > revision) this.#later(id, this.#interval);
        }
      }
    }

    // 4. Enrichment, once per thread, in the background and bounded.
    if (state.enrichment === 'pending' && this.#o.enrich !== undefined) {
      const claim = state.enriching;
      const now = this.#clock.now();
      if (!claim || now - Date.parse(claim.at) >= this.#claimTtl) this.#startEnrichment(id, now);
    }

    // 5. The run's status, so the sweep and list() see what is left to do.
    const fresh = await this.#o.runs.get(id);
    if (fresh !== undefined) {
      const status = runStatusOf(parseIncidentState(fresh.state));
      if (status !== fresh.status)
        await this.#o.runs.update(id, fresh.version, { status }, new Date(this.#clock.now()));
    }
  }

  #again(id: string): void {
    const entry = this.#syncing.get(id);
    if (entry) entry.again = true;
  }

  #startEnrichment(id: string, now: number): void {
    const enrich = this.#o.enrich;
    if (enrich === undefined) return;
    const work = (async () => {
      const claimed = await this.#mutate(id, (s) =>
        s.enrichment === 'pending' && (!s.enriching || now - Date.parse(s.enriching.at) >= this.#claimTtl)
          ? { ...s, enriching: { by: this.#o.replicaId, at: new Date(now).toISOString() } }
          : undefined,
      );
      if (claimed === undefined) return;
      const state = parseIncidentState(claimed.state);
      const root = state.root;
      if (root === undefined) return;
      let outcome: 'done' | 'failed' = 'done';
      try {
        await this.#limit(async () => {
          const messages = await enrich(id, state);
          for (const message of messages) await this.#o.poster.reply(root.channel, root.ts, message);
        });
        this.#o.onEnriched?.((this.#clock.now() - Date.parse(state.firstNotifiedAt)) / 1000);
      } catch (error) {
        outcome = 'failed';
        this.#o.logger.warn({ err: error, incident: id }, 'Enrichment of an alert thread failed');
      }
      const done = await this.#mutate(id, (s) => ({ ...s, enrichment: outcome, enriching: undefined }));
      if (done !== undefined) {
        const status = runStatusOf(parseIncidentState(done.state));
        if (status !== done.status)
          await this.#o.runs.update(id, done.version, { status }, new Date(this.#clock.now()));
      }
    })().catch((error: unknown) =>
      this.#o.logger.warn({ err: error, incident: id }, 'Enrichment bookkeeping failed'),
    );
    this.#enriching.add(work);
    void work.finally(() => this.#enriching.delete(work));
  }

  /**
   * Reads the run, applies `change` and writes it back if nobody wrote in between; tries again
   * otherwise. `change` returning undefined means "nothing to do any more": resolves undefined.
   */
  async #mutate(
    id: string,
    change: (state: IncidentState) => IncidentState | undefined,
  ): Promise<RunRecord | undefined> {
    for (let attempt = 0; attempt < MAX_CAS_TRIES; attempt += 1) {
      const run = await this.#o.runs.get(id);
      if (run === undefined) return undefined;
      const next = change(parseIncidentState(run.state));
      if (next === undefined) return undefined;
      const updated = await this.#o.runs.update(
        id,
        run.version,
        { state: next },
        new Date(this.#clock.now()),
      );
      if (updated !== undefined) return updated;
    }
    throw new Error(`alert thread ${id} kept changing under us`);
  }
}

/** Runs at most `n` tasks at once; the rest queue in order. */
export function limiter(n: number): <T>(work: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: Array<() => void> = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active += 1;
    try {
      return await work();
    } finally {
      active -= 1;
      queue.shift()?.();
    }
  };
}
