/**
 * Child process: imports one module (argv[2], or nothing) and prints its memory as JSON:
 * `{ rss, rssAfterGc, heapUsedAfterGc }` in bytes. The GC is the inspector's
 * HeapProfiler.collectGarbage (a full, memory-reducing collection, unlike `--expose-gc`'s gc()).
 * The bench runs it once per dependency to show what an idle Wheelhouse's memory is made of.
 */
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

const rss = (): number =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) * 1024;
const target = process.argv[2];
if (target) await import(target);
const before = rss();
const session = new Session();
session.connect();
await session.post('HeapProfiler.collectGarbage');
await session.post('HeapProfiler.collectGarbage');
session.disconnect();
process.stdout.write(
  `${JSON.stringify({ rss: before, rssAfterGc: rss(), heapUsedAfterGc: process.memoryUsage().heapUsed })}\n`,
);
