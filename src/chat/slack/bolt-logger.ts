import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from 'pino';

const RANK: Record<LogLevel, number> = {
  [LogLevel.DEBUG]: 10,
  [LogLevel.INFO]: 20,
  [LogLevel.WARN]: 30,
  [LogLevel.ERROR]: 40,
};

/** Bolt's level for a pino level, so Bolt logs no more than the process does. */
export function boltLevelOf(pinoLevel: string): LogLevel {
  switch (pinoLevel) {
    case 'trace':
    case 'debug':
      return LogLevel.DEBUG;
    case 'info':
      return LogLevel.INFO;
    case 'warn':
      return LogLevel.WARN;
    default:
      return LogLevel.ERROR;
  }
}

/**
 * Bolt and the Slack SDKs log through their own `Logger` interface; this sends those lines to our
 * pino logger (as a `component: "slack"` child). Bolt sets the level it wants; that filter is
 * kept here so it never changes the level of the shared pino logger.
 */
export function createBoltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'slack' });
  let level = boltLevelOf(logger.level);
  const emit = (at: LogLevel, parts: unknown[]): void => {
    if (RANK[at] < RANK[level]) return;
    const err = parts.find((p) => p instanceof Error);
    const msg = parts
      .filter((p) => !(p instanceof Error))
      .map((p) => (typeof p === 'string' ? p : safeJson(p)))
      .join(' ');
    const fields = err === undefined ? {} : { err };
    if (at === LogLevel.DEBUG) child.debug(fields, msg);
    else if (at === LogLevel.INFO) child.info(fields, msg);
    else if (at === LogLevel.WARN) child.warn(fields, msg);
    else child.error(fields, msg);
  };
  return {
    debug: (...parts: unknown[]) => emit(LogLevel.DEBUG, parts),
    info: (...parts: unknown[]) => emit(LogLevel.INFO, parts),
    warn: (...parts: unknown[]) => emit(LogLevel.WARN, parts),
    error: (...parts: unknown[]) => emit(LogLevel.ERROR, parts),
    setLevel(next) {
      level = next;
    },
    getLevel: () => level,
    setName() {
      // The pino child already says where the line comes from.
    },
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
