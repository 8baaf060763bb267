import type { Logger } from 'pino';
import { WheelhouseError } from '../errors.ts';
import type { RunRecord, RunStore } from '../store/run-store.ts';
import { type CanaryState, parseCanary, runStatusOf } from './canary-run.ts';

/** Runs `task` every `everyMs` until the returned function is called. */
export type Repeat = (task: () => Promise<void>, everyMs: number) => () => void;

/** setInterval, unref'd: a heartbeat never keeps the process alive. */
export const repeatWithInterval: Repeat = (task, everyMs) => {
  const timer = setInterval(() => void task(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
};

export interface CanaryLeaseDeps {
  runs: RunStore;
  /** This process, as lease owner. */
  owner: string;
  /** How long a lease lasts without renewal; renewed every third of it. */
  leaseMs: number;
  now: () => Date;
  repeat: Repeat;
  logger: Logger;
}

/**
 * A canary run's lease while one tick of this process works on the run. Taken by compare-and-set
 * on the run's version, then renewed every third of its length (the heartbeat), so a step may wait
 * for its pods longer than the lease and a crashed owner is replaced within one lease. Every write
 * goes through here, one at a time, tracking the run's version; a renewal that finds the run
 * leased to another owner aborts `lost`, and `check()` before each side effect stops a tick that
 * lost the run (or whose lease ran out unrenewed) from acting on it.
 */
export class CanaryLease {
  readonly #deps: CanaryLeaseDeps;
  readonly #lost = new AbortController();
  #run: RunRecord;
  #until: number;
  #chain: Promise<void> = Promise.resolve();
  #stopBeating: () => void = () => undefined;
  #stopped = false;

  private constructor(deps: CanaryLeaseDeps, run: RunRecord, until: number) {
    this.#deps = deps;
    this.#run = run;
    this.#until = until;
  }

  /**
   * Takes the run's lease when it is this process's or has run out, and starts renewing it;
   * undefined when another owner holds it or was quicker.
   */
  static async take(deps: CanaryLeaseDeps, run: RunRecord): Promise<CanaryLease | undefined> {
    const state = parseCanary(run);
    const now = deps.now();
    if (state.lease.owner !== deps.owner && Date.parse(state.lease.until) > now.getTime()) return undefined;
    const lease = freshLease(deps, now);
    const taken = await deps.runs.update(run.id, run.version, { state: { ...state, lease } }, now);
    if (!taken) return undefined;
    const held = new CanaryLease(deps, taken, Date.parse(lease.until));
    held.#stopBeating = deps.repeat(() => held.renew(), deps.leaseMs / 3);
    return held;
  }

  /** Aborts when the run was found leased to another owner, or the lease ran out unrenewed. */
  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  /** The newest record of the run this process knows (chat commands added meanwhile included). */
  get run(): RunRecord {
    return this.#run;
  }

  /** Call before each side effect: throws when the run is no longer this process's to act on. */
  check(): void {
    if (!this.#lost.signal.aborted && this.#deps.now().getTime() >= this.#until) {
      this.#lose('its lease ran out before it could be renewed');
    }
    this.#lost.signal.throwIfAborted();
  }

  /** One heartbeat: the lease runs a full length from now. Never throws. */
  renew(): Promise<void> {
    return this.#serially(async () => {
      // A beat queued behind the tick's last write has nothing left to keep.
      if (this.#stopped) return;
      for (let attempt = 0; attempt < 5 && !this.#lost.signal.aborted; attempt++) {
        const lease = freshLease(this.#deps, this.#deps.now());
        const state = { ...parseCanary(this.#run), lease };
        const renewed = await this.#deps.runs.update(
          this.#run.id,
          this.#run.version,
          { state },
          this.#deps.now(),
        );
        if (renewed) {
          this.#run = renewed;
          this.#until = Date.parse(lease.until);
          return;
        }
        // A chat command was added (the run is still ours: renew on top of it), or another owner took it.
        if (!(await this.#reread())) return;
      }
    }).catch((err: unknown) => {
      this.#deps.logger.warn({ err, run: this.#run.id }, 'could not renew a canary lease');
      if (this.#deps.now().getTime() >= this.#until)
        this.#lose('its lease ran out before it could be renewed');
    });
  }

  /**
   * Stores a tick's outcome with a fresh lease. Chat commands added since the claim are kept (those
   * in `handled` were carried out by this tick). Stores nothing once the run is another owner's.
   */
  finish(state: CanaryState, handled: ReadonlySet<string>): Promise<void> {
    return this.#serially(async () => {
      for (let attempt = 0; attempt < 5 && !this.#lost.signal.aborted; attempt++) {
        const commands = parseCanary(this.#run).commands.filter((c) => !handled.has(c.id));
        const lease = freshLease(this.#deps, this.#deps.now());
        const stored = await this.#deps.runs.update(
          this.#run.id,
          this.#run.version,
          { status: runStatusOf(state.phase), state: { ...state, commands, lease } },
          this.#deps.now(),
        );
        if (stored) {
          this.#run = stored;
          this.#until = Date.parse(lease.until);
          return;
        }
        if (!(await this.#reread())) return;
      }
    });
  }

  /** Stops the heartbeat; the stored lease runs out on its own (or is released by the engine). */
  stop(): void {
    this.#stopped = true;
    this.#stopBeating();
  }

  /** Reads the run again: true while it is still this process's, else the lease is lost. */
  async #reread(): Promise<boolean> {
    const latest = await this.#deps.runs.get(this.#run.id);
    const owner = latest ? parseCanary(latest).lease.owner : undefined;
    if (!latest || owner !== this.#deps.owner) {
      this.#lose(owner ? `${owner} took it over` : 'it is gone');
      return false;
    }
    this.#run = latest;
    return true;
  }

  #lose(why: string): void {
    if (this.#lost.signal.aborted) return;
    this.stop();
    this.#deps.logger.warn({ run: this.#run.id, why }, 'lost a canary run; this process stops acting on it');
    this.#lost.abort(
      new WheelhouseError('CONFLICT', `Canary run ${this.#run.id} is no longer this Wheelhouse's: ${why}.`, {
        hint: 'Nothing to do: the Wheelhouse that holds its lease carries the run on.',
      }),
    );
  }

  /** One write at a time: a heartbeat never races the tick's own store on the run's version. */
  #serially(work: () => Promise<void>): Promise<void> {
    const next = this.#chain.then(work);
    this.#chain = next.catch(() => undefined);
    return next;
  }
}

function freshLease(deps: CanaryLeaseDeps, now: Date): CanaryState['lease'] {
  return { owner: deps.owner, until: new Date(now.getTime() + deps.leaseMs).toISOString() };
}
