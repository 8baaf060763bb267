import { describe, expect, it } from 'vitest';
import { WheelhouseError } from '../../src/errors.ts';
import type { KubeReader } from '../../src/kube/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import { DEFAULT_LIMITS, type Limits, type SkillContext } from '../../src/skills/context.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import type { LogsSection, SkillResult } from '../../src/skills/result.ts';
import type { LogHit, LogSearch, LogSearchQuery, LogSearchResult } from '../../src/sources/types.ts';
import { logsSearch } from './skill.ts';

const NOW = new Date('2026-11-25T08:00:00Z');

function unused(): never {
  throw new Error('logs-search does not call Kubernetes');
}

const noKube: KubeReader = {
  listPods: unused,
  getWorkload: unused,
  podsOf: unused,
  listReplicaSets: unused,
  listEvents: unused,
  listNodes: unused,
  getNamespace: unused,
  readLog: unused,
};

/** Answers with `result`, or with its first `size` hits, as Elasticsearch would. */
function fakeSearch(result: LogSearchResult): LogSearch & { queries: LogSearchQuery[] } {
  const queries: LogSearchQuery[] = [];
  return {
    queries,
    async search(query) {
      queries.push(query);
      return { ...result, hits: result.hits.slice(0, query.size) };
    },
  };
}

function context(
  parts: Omit<Partial<SkillContext>, 'limits'> & { limits?: Partial<Limits> } = {},
): SkillContext {
  const { limits, ...rest } = parts;
  return {
    kube: noKube,
    metrics: undefined,
    logSearch: undefined,
    charts: { renderLineChart: unused },
    redact: (text) => text.replace(/password=\S+/g, 'password=[REDACTED]'),
    actor: { surface: 'console', id: 'tester', kube: undefined },
    requestId: 'req-1',
    signal: new AbortController().signal,
    now: () => NOW,
    ...rest,
    limits: { ...DEFAULT_LIMITS, ...limits },
  };
}

/** `count` hits, newest first, one second apart, ending at NOW. */
function hits(count: number, message = (i: number) => `line ${i}`): LogHit[] {
  return Array.from({ length: count }, (_, i) => ({
    time: new Date(NOW.getTime() - i * 1000).toISOString(),
    namespace: 'shop',
    pod: 'checkout-7d9f8-abcde',
    container: 'app',
    level: 'error',
    message: message(i),
  }));
}

function logsOf(result: SkillResult): LogsSection {
  const found = result.sections.find((s): s is LogsSection => s.type === 'logs');
  if (!found) throw new Error('no logs section');
  return found;
}

function textOf(result: SkillResult): string {
  return result.sections.map((s) => (s.type === 'text' ? s.text : '')).join('\n');
}

describe('logs-search grammar', () => {
  it('reads the documented example', () => {
    const registry = new SkillRegistry([logsSearch]);
    const command = parseCommand(
      '/wh search-logs -n shop app=checkout level=error --since 1h "connection reset"',
      registry,
    );
    expect(command).toMatchObject({
      kind: 'skill',
      input: { namespace: 'shop', app: 'checkout', level: 'error', since: '1h', text: 'connection reset' },
    });
  });

  it('needs a namespace', () => {
    const registry = new SkillRegistry([logsSearch]);
    expect(() => parseCommand('/wh search-logs timeout', registry)).toThrow(/--namespace is required/);
  });
});

describe('logs-search', () => {
  it('searches the last 15 minutes by default with every filter and the request signal', async () => {
    const logSearch = fakeSearch({ hits: [], total: 0, totalIsLowerBound: false });
    const controller = new AbortController();
    await logsSearch.run(
      {
        namespace: 'shop',
        app: 'checkout',
        pod: 'checkout-7d9f8-abcde',
        level: 'error',
        text: 'connection reset',
      },
      context({ logSearch, signal: controller.signal }),
    );
    expect(logSearch.queries).toEqual([
      {
        namespace: 'shop',
        app: 'checkout',
        pod: 'checkout-7d9f8-abcde',
        level: 'error',
        text: 'connection reset',
        from: new Date(NOW.getTime() - 15 * 60_000),
        to: NOW,
        size: DEFAULT_LIMITS.maxSearchHits,
        signal: controller.signal,
      },
    ]);
  });

  it('caps --limit by the search hit limit', async () => {
    const logSearch = fakeSearch({ hits: [], total: 0, totalIsLowerBound: false });
    await logsSearch.run(
      { namespace: 'shop', limit: 100_000, since: '1h' },
      context({ logSearch, limits: { maxSearchHits: 200 } }),
    );
    expect(logSearch.queries[0]?.size).toBe(200);
    expect(logSearch.queries[0]?.from).toEqual(new Date(NOW.getTime() - 3600_000));
    await logsSearch.run(
      { namespace: 'shop', limit: 20 },
      context({ logSearch, limits: { maxSearchHits: 200 } }),
    );
    expect(logSearch.queries[1]?.size).toBe(20);
  });

  it('shows lines oldest first, redacted, with honest counts', async () => {
    const logSearch = fakeSearch({
      hits: hits(3, (i) => (i === 0 ? 'login failed password=hunter2' : `line ${i}`)),
      total: 3,
      totalIsLowerBound: false,
    });
    const result = await logsSearch.run({ namespace: 'shop' }, context({ logSearch }));
    const logs = logsOf(result);
    expect(logs.lines).toEqual([
      '2026-11-25T07:59:58.000Z checkout-7d9f8-abcde ERROR line 2',
      '2026-11-25T07:59:59.000Z checkout-7d9f8-abcde ERROR line 1',
      '2026-11-25T08:00:00.000Z checkout-7d9f8-abcde ERROR login failed password=[REDACTED]',
    ]);
    expect(logs.total).toBe(3);
    expect(logs.attachment).toBeUndefined();
    expect(result.attachments).toBeUndefined();
    expect(textOf(result)).toContain('Showing 3 of 3 matching lines, oldest first.');
  });

  it('keeps the newest lines in chat and every fetched line in an attachment', async () => {
    const logSearch = fakeSearch({ hits: hits(120), total: 4321, totalIsLowerBound: false });
    const result = await logsSearch.run(
      { namespace: 'shop', limit: 80 },
      context({ logSearch, limits: { chatLogLines: 50 } }),
    );
    const logs = logsOf(result);
    expect(logs.lines).toHaveLength(50);
    expect(logs.lines.at(-1)).toContain('line 0');
    expect(logs.lines[0]).toContain('line 49');
    expect(logs.total).toBe(4321);
    expect(logs.attachment).toBe('logs-shop-2026-11-25T08-00-00-000Z.txt');
    const attachment = result.attachments?.[0];
    expect(attachment?.name).toBe(logs.attachment);
    expect(attachment?.mimeType).toBe('text/plain');
    const content = String(attachment?.content).trimEnd().split('\n');
    expect(content).toHaveLength(80);
    expect(content[0]).toContain('line 79');
    expect(content.at(-1)).toContain('line 0');
    expect(textOf(result)).toContain('Showing 50 of 4,321 matching lines, oldest first.');
    expect(textOf(result)).toContain('Only the newest 80 were fetched');
    expect(result.summary).toBe('4,321 log lines match in shop over the last 15m; showing the newest 50.');
  });

  it('marks a total that Elasticsearch only counted up to a limit', async () => {
    const logSearch = fakeSearch({ hits: hits(5), total: 10_000, totalIsLowerBound: true });
    const result = await logsSearch.run({ namespace: 'shop' }, context({ logSearch }));
    expect(result.summary).toContain('10,000+ log lines');
  });

  it('answers plainly when nothing matches', async () => {
    const logSearch = fakeSearch({ hits: [], total: 0, totalIsLowerBound: false });
    const result = await logsSearch.run(
      { namespace: 'shop', app: 'checkout', text: 'boom' },
      context({ logSearch }),
    );
    expect(result.summary).toBe('No log lines match in shop over the last 15m.');
    expect(textOf(result)).toContain('namespace=shop, app=checkout, text "boom"');
    expect(result.sections.some((s) => s.type === 'logs')).toBe(false);
  });

  it('says SOURCE_NOT_CONFIGURED naming the config key without Elasticsearch', async () => {
    const error = await logsSearch.run({ namespace: 'shop' }, context()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WheelhouseError);
    expect(error).toMatchObject({
      code: 'SOURCE_NOT_CONFIGURED',
      hint: expect.stringContaining('elasticsearch.node'),
    });
  });

  it('passes source errors through', async () => {
    const failing: LogSearch = {
      search: async () => {
        throw new WheelhouseError('SOURCE_UNAVAILABLE', 'Elasticsearch at http://es:9200 is unreachable.');
      },
    };
    await expect(
      logsSearch.run({ namespace: 'shop' }, context({ logSearch: failing })),
    ).rejects.toMatchObject({
      code: 'SOURCE_UNAVAILABLE',
    });
  });

  it('refuses a level that is not a word', () => {
    expect(() => logsSearch.summarize({ namespace: 'shop', level: 'error OR 1=1' })).toThrow();
  });
});
