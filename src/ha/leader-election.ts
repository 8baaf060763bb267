/**
 * Leader election over one coordination.k8s.io/v1 Lease, the way client-go's leaderelection does
 * it: candidates try every retry period; the holder renews; a claim is judged expired by the time
 * *this* process last saw the Lease change (never by comparing clocks with another host); a leader
 * that cannot renew within the renew deadline stops leading before anyone may take over (lease
 * duration > renew deadline); a leader that leaves empties the holder so the next one takes over
 * within one retry period instead of a whole lease duration.
 */

/** The Lease fields election reads and writes. Times are RFC 3339 with microseconds (MicroTime). */
export interface LeaseRecord {
  resourceVersion: string;
  /** '' when nobody holds it (released). */
  holder: string;
  leaseDurationSeconds: number;
  acquireTime: string | undefined;
  renewTime: string | undefined;
  transitions: number;
}

/** One Lease, with optimistic concurrency: a write based on a stale record answers 'conflict'. */
export interface LeaseStore {
  readonly description: string;
  get(): Promise<LeaseRecord | undefined>;
  create(record: Omit<LeaseRecord, 'resourceVersion'>): Promise<LeaseRecord | 'conflict'>;
  update(record: LeaseRecord): Promise<LeaseRecord | 'conflict'>;
}

/** The logger calls election makes (pino's signature). */
export interface ElectionLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LeaderElectionOptions {
  store: LeaseStore;
  /** Unique per process: two processes with one identity would both lead. */
  identity: string;
  /** @default 15_000 */
  leaseDurationMs?: number | undefined;
  /** @default 10_000 */
  renewDeadlineMs?: number | undefined;
  /** @default 2_000 */
  retryPeriodMs?: number | undefined;
  /** Called once this process holds the Lease; start the leader-only work here. */
  onStartedLeading(): void | Promise<void>;
  /** Called when it no longer may act as leader (lost, not renewed in time, or stopping). */
  onStoppedLeading(): void | Promise<void>;
  logger: ElectionLogger;
  /** @default Date.now */
  now?: (() => number) | undefined;
}

type Attempt = 'holding' | 'held-by-other' | 'failed';

/** Campaigns for the Lease until stopped. `step()` is one attempt, for tests and the loop alike. */
export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectionOptions, 'now'>> & { now: () => number };
  #leading = false;
  /** The last Lease state seen and when this process saw it change. */
  #observed: { key: string; at: number } | undefined;
  #lastRenewAt = 0;
  #loop: Promise<void> | undefined;
  #stopping = false;
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#o = {
      ...options,
      leaseDurationMs: options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: options.retryPeriodMs ?? 2_000,
      now: options.now ?? Date.now,
    };
    if (
      !(this.#o.leaseDurationMs > this.#o.renewDeadlineMs && this.#o.renewDeadlineMs > this.#o.retryPeriodMs)
    ) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  get identity(): string {
    return this.#o.identity;
  }

  /** One attempt to acquire or renew; starts or stops leading accordingly. Never throws. */
  async step(): Promise<boolean> {
    const now = this.#o.now();
    let attempt: Attempt;
    try {
      attempt = await this.#tryAcquireOrRenew(now);
    } catch (err) {
      this.#o.logger.warn({ err, lease: this.#o.store.description }, 'leader election: lease not reachable');
      attempt = 'failed';
    }
    if (attempt === 'holding') {
      this.#lastRenewAt = now;
      if (!this.#leading) {
        this.#leading = true;
        this.#o.logger.info(
          { identity: this.#o.identity, lease: this.#o.store.description },
          'became leader',
        );
        await this.#call('onStartedLeading', this.#o.onStartedLeading);
      }
    } else if (this.#leading) {
      // Someone else holds it: stop at once. Unreachable: keep going until the renew deadline, which
      // passes before anyone else may take over (the lease duration is longer).
      const deadlinePassed = this.#o.now() - this.#lastRenewAt >= this.#o.renewDeadlineMs;
      if (attempt === 'held-by-other' || deadlinePassed) await this.#stopLeading(attempt);
    }
    return this.#leading;
  }

  /** Campaigns in the background: every retry period (candidates with a little jitter). */
  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#loop = (async () => {
      while (!this.#stopping) {
        await this.step();
        if (this.#stopping) break;
        const jitter = this.#leading ? 0 : Math.random() * 0.2 * this.#o.retryPeriodMs;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#timer = setTimeout(resolve, this.#o.retryPeriodMs + jitter);
        });
      }
    })();
  }

  /**
   * Stops campaigning; a leader stops its work (onStoppedLeading) and then releases the Lease so
   * another process takes over within one retry period.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    await this.#loop;
    this.#loop = undefined;
    if (!this.#leading) return;
    await this.#stopLeading('stopping');
    await this.#release().catch((err: unknown) =>
      this.#o.logger.warn(
        { err, lease: this.#o.store.description },
        'could not release the lease; it expires',
      ),
    );
  }

  async #tryAcquireOrRenew(now: number): Promise<Attempt> {
    const { store, identity } = this.#o;
    const stamp = microTime(now);
    const leaseDurationSeconds = Math.ceil(this.#o.leaseDurationMs / 1000);
    const current = await store.get();
    if (!current) {
      const created = await store.create({
        holder: identity,
        leaseDurationSeconds,
        acquireTime: stamp,
        renewTime: stamp,
        transitions: 0,
      });
      if (created === 'conflict') return 'held-by-other';
      this.#observe(created, now);
      return 'holding';
    }
    this.#observe(current, now);
    const observedAt = this.#observed?.at ?? now;
    const heldByOther =
      current.holder !== '' &&
      current.holder !== identity &&
      observedAt + current.leaseDurationSeconds * 1000 > now;
    if (heldByOther) return 'held-by-other';
    const mine = current.holder === identity;
    const updated = await store.update({
      ...current,
      holder: identity,
      leaseDurationSeconds,
      renewTime: stamp,
      acquireTime: mine ? (current.acquireTime ?? stamp) : stamp,
      transitions: mine ? current.transitions : current.transitions + 1,
    });
    if (updated === 'conflict') return 'held-by-other';
    this.#observe(updated, now);
    return 'holding';
  }

  #observe(record: LeaseRecord, now: number): void {
    const key = `${record.holder}|${record.renewTime ?? ''}|${record.resourceVersion}`;
    if (this.#observed?.key !== key) this.#observed = { key, at: now };
  }

  async #stopLeading(reason: Attempt | 'stopping'): Promise<void> {
    this.#leading = false;
    this.#o.logger.info(
      { identity: this.#o.identity, reason, lease: this.#o.store.description },
      'stopped leading',
    );
    await this.#call('onStoppedLeading', this.#o.onStoppedLeading);
  }

  async #release(): Promise<void> {
    const current = await this.#o.store.get();
    if (!current || current.holder !== this.#o.identity) return;
    const released = await this.#o.store.update({
      ...current,
      holder: '',
      leaseDurationSeconds: 1,
      renewTime: microTime(this.#o.now()),
    });
    if (released !== 'conflict')
      this.#o.logger.info({ lease: this.#o.store.description }, 'released the lease');
  }

  async #call(name: string, fn: () => void | Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.#o.logger.error({ err }, `leader election: ${name} failed`);
    }
  }
}

/** RFC 3339 with microseconds, as the API server's MicroTime expects. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
