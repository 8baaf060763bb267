import { describe, expect, it } from 'vitest';
import type { LogQuery } from '../../src/kube/types.ts';
import { parseCommand } from '../../src/planner/grammar.ts';
import type { Limits } from '../../src/skills/context.ts';
import { SkillRegistry } from '../../src/skills/registry.ts';
import type { ListSection, LogsSection, SkillResult } from '../../src/skills/result.ts';
import { buildDeployment, buildPod, TEST_NOW } from '../../test/support/builders.ts';
import {
  type FakeKubeOptions,
  type FakeKubeReader,
  fakeKube,
  skillContext,
} from '../../test/support/fake-kube.ts';
import { podLogs } from './skill.ts';

const registry = new SkillRegistry([podLogs]);

/** Log text as the kubelet returns it with timestamps=true. */
function log(...lines: Array<[secondsAgo: number, text: string]>): string {
  return lines
    .map(([s, text]) => `${new Date(TEST_NOW.getTime() - s * 1000).toISOString()} ${text}\n`)
    .join('');
}

const podA = buildPod({ name: 'checkout-a' });
const podB = buildPod({ name: 'checkout-b' });
const crashy = buildPod({
  name: 'crashy-1',
  labels: { app: 'crashy' },
  containers: [
    {
      state: { waiting: 'CrashLoopBackOff' },
      restartCount: 5,
      lastTerminated: { reason: 'Error', exitCode: 1 },
    },
  ],
});

const world: FakeKubeOptions = {
  deployments: [buildDeployment()],
  pods: [podA, podB, crashy],
  logs: [
    {
      pod: 'checkout-a',
      text: log([50, 'GET /cart 200'], [30, 'login password=hunter2 ok'], [10, 'upstream timeout after 5s']),
    },
    {
      pod: 'checkout-b',
      text: log(
        [40, 'GET /pay 200'],
        [20, 'Authorization: Bearer abc123DEF456ghi789'],
        [5, 'another timeout'],
      ),
    },
    { pod: 'crashy-1', previous: true, text: log([90, 'starting'], [89, 'FATAL cannot connect to db']) },
  ],
};

interface Run {
  result: SkillResult;
  kube: FakeKubeReader;
}

async function run(
  command: string,
  options: FakeKubeOptions = world,
  limits: Partial<Limits> = {},
): Promise<Run> {
  const parsed = parseCommand(command, registry);
  if (parsed.kind !== 'skill' || parsed.skill.risk !== 'read')
    throw new Error('expected a read skill command');
  const kube = fakeKube(options);
  const result = await parsed.skill.run(parsed.input, skillContext(kube, { limits }));
  return { result, kube };
}

function logs(result: SkillResult): LogsSection {
  const section = result.sections.find((s): s is LogsSection => s.type === 'logs');
  if (!section) throw new Error('no logs section');
  return section;
}

function notes(result: SkillResult): string[] {
  return result.sections.find((s): s is ListSection => s.type === 'list' && s.title === 'Notes')?.items ?? [];
}

function logQueries(kube: FakeKubeReader): LogQuery[] {
  return kube.calls.flatMap((c) => (c.method === 'readLog' ? [c.args] : []));
}

describe('pod-logs grammar', () => {
  it.each([
    [
      '/wh logs deploy/checkout -n shop --since 15m --grep timeout',
      { target: 'deploy/checkout', namespace: 'shop', since: '15m', grep: 'timeout' },
    ],
    ['/wh logs crashy-1 -n shop -p', { target: 'crashy-1', namespace: 'shop', previous: true }],
    ['/wh logs -l app=cart -n shop --tail 20', { selector: 'app=cart', namespace: 'shop', tail: 20 }],
    ['/wh log app=cart -n shop -c app', { selector: 'app=cart', namespace: 'shop', container: 'app' }],
  ])('%s', (command, input) => {
    const parsed = parseCommand(command, registry);
    expect(parsed.kind === 'skill' && parsed.input).toEqual(input);
  });

  it.each([
    ['/wh logs deploy/checkout -n shop --grep "(unclosed"', /--grep must be a valid regular expression/],
    ['/wh logs deploy/checkout -n shop --grep "(a+)+b"', /--grep nests repetitions/],
    ['/wh logs -n shop', /<target> needs a pod, a workload such as deploy\/checkout, or --selector/],
    ['/wh logs deploy/checkout -l app=x -n shop', /--selector takes either a target or --selector/],
  ])('rejects %s', (command, message) => {
    expect(() => parseCommand(command, registry)).toThrowError(message);
  });

  it('keeps every example runnable as written', () => {
    for (const example of podLogs.examples) {
      const parsed = parseCommand(example.command, registry);
      expect(parsed.kind === 'skill' && parsed.input).toEqual(example.input);
    }
  });
});

describe('pod-logs', () => {
  it("merges a deployment's pods by timestamp, prefixed pod/container, with secrets redacted", async () => {
    const { result } = await run('/wh logs deploy/checkout -n shop');
    expect(logs(result)).toEqual({
      type: 'logs',
      total: 6,
      lines: [
        'checkout-a/app 2026-11-25T07:59:10.000Z GET /cart 200',
        'checkout-b/app 2026-11-25T07:59:20.000Z GET /pay 200',
        'checkout-a/app 2026-11-25T07:59:30.000Z login password=[REDACTED:password] ok',
        'checkout-b/app 2026-11-25T07:59:40.000Z Authorization: Bearer [REDACTED:bearer]',
        'checkout-a/app 2026-11-25T07:59:50.000Z upstream timeout after 5s',
        'checkout-b/app 2026-11-25T07:59:55.000Z another timeout',
      ],
    });
    expect(result.summary).toBe('6 log lines from 2 containers of deploy/checkout in shop.');
    expect(result.attachments).toBeUndefined();
  });

  it('passes --since and --tail to Kubernetes and greps the redacted text', async () => {
    const { result, kube } = await run(
      '/wh logs deploy/checkout -n shop --since 15m --tail 100 --grep timeout',
    );
    expect(logQueries(kube)).toEqual([
      {
        namespace: 'shop',
        pod: 'checkout-a',
        container: 'app',
        sinceSeconds: 900,
        previous: false,
        limitBytes: 1_000_000,
        tailLines: 100,
      },
      {
        namespace: 'shop',
        pod: 'checkout-b',
        container: 'app',
        sinceSeconds: 900,
        previous: false,
        limitBytes: 1_000_000,
        tailLines: 100,
      },
    ]);
    expect(logs(result).lines.map((l) => l.split(' ').slice(2).join(' '))).toEqual([
      'upstream timeout after 5s',
      'another timeout',
    ]);
    expect(result.summary).toBe(
      '2 log lines matching /timeout/ from 2 containers of deploy/checkout in shop over the last 15m.',
    );
  });

  it('cannot be used to probe secrets with --grep', async () => {
    const { result } = await run('/wh logs checkout-a -n shop --grep hunter2');
    expect(result.summary).toBe(
      'No log lines matching /hunter2/ from pod/checkout-a in shop (1 container read).',
    );
  });

  it('shows the last lines in chat and attaches all of them, never cutting silently', async () => {
    const { result } = await run('/wh logs deploy/checkout -n shop', world, { chatLogLines: 2 });
    const section = logs(result);
    expect(section.lines.map((l) => l.split(' ').slice(2).join(' '))).toEqual([
      'upstream timeout after 5s',
      'another timeout',
    ]);
    expect(section.total).toBe(6);
    expect(section.attachment).toBe('logs-deploy-checkout.txt');
    const attachment = result.attachments?.[0];
    expect(attachment?.name).toBe('logs-deploy-checkout.txt');
    expect(String(attachment?.content).trim().split('\n')).toHaveLength(6);
    expect(String(attachment?.content)).not.toContain('hunter2');
    expect(result.summary).toContain('the last 2 shown, all in logs-deploy-checkout.txt');
  });

  it('reads the previous container of a crash loop', async () => {
    const { result, kube } = await run('/wh logs crashy-1 -n shop --previous');
    expect(logQueries(kube)[0]?.previous).toBe(true);
    expect(logs(result).lines).toEqual([
      'crashy-1/app 2026-11-25T07:58:30.000Z starting',
      'crashy-1/app 2026-11-25T07:58:31.000Z FATAL cannot connect to db',
    ]);
    expect(result.summary).toBe('2 previous log lines from 1 container of pod/crashy-1 in shop.');
  });

  it('says clearly that a pod without restarts has no previous container', async () => {
    const { result, kube } = await run('/wh logs checkout-a -n shop --previous');
    expect(result.summary).toBe('pod/checkout-a has no previous container to read: nothing has restarted.');
    expect(notes(result)).toEqual([
      'checkout-a/app has no previous container: it has not restarted, so there is no earlier run to read.',
    ]);
    expect(logQueries(kube)).toEqual([]);
  });

  it('points to --previous when a restarted container logged nothing yet', async () => {
    const { result } = await run('/wh logs crashy-1 -n shop');
    expect(notes(result)).toEqual([
      'crashy-1/app restarted 5 times and its current run logged nothing; --previous shows the run that ended.',
    ]);
  });

  it('reads every container by default and one with --container', async () => {
    const sidecar = buildPod({
      name: 'web-1',
      labels: { app: 'web' },
      containers: [{ name: 'app' }, { name: 'proxy' }],
    });
    const options: FakeKubeOptions = {
      pods: [sidecar],
      logs: [
        { pod: 'web-1', container: 'app', text: log([20, 'app line']) },
        { pod: 'web-1', container: 'proxy', text: log([10, 'proxy line']) },
      ],
    };
    const all = await run('/wh logs web-1 -n shop', options);
    expect(logs(all.result).lines).toEqual([
      'web-1/app 2026-11-25T07:59:40.000Z app line',
      'web-1/proxy 2026-11-25T07:59:50.000Z proxy line',
    ]);
    const one = await run('/wh logs web-1 -n shop -c proxy', options);
    expect(logs(one.result).lines).toEqual(['web-1/proxy 2026-11-25T07:59:50.000Z proxy line']);
    await expect(run('/wh logs web-1 -n shop -c nope', options)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'None of the pods has a container named nope.',
      hint: 'Their containers: app, proxy. Leave out --container to read them all.',
    });
  });

  it('explains containers that never started instead of asking for their logs', async () => {
    const pulling = buildPod({ name: 'bad-1', containers: [{ state: { waiting: 'ImagePullBackOff' } }] });
    const { result, kube } = await run('/wh logs bad-1 -n shop', { pods: [pulling] });
    expect(result.summary).toBe('pod/bad-1 has no logs yet: no container has started.');
    expect(notes(result)).toEqual(['bad-1/app has no logs yet: it is waiting (ImagePullBackOff).']);
    expect(logQueries(kube)).toEqual([]);
  });

  it('shares the line budget between containers and says when it cut', async () => {
    const busy = log(...Array.from({ length: 8 }, (_, i): [number, string] => [60 - i, `line ${i}`]));
    const options: FakeKubeOptions = {
      pods: [podA, podB],
      deployments: [buildDeployment()],
      logs: [
        { pod: 'checkout-a', text: busy },
        { pod: 'checkout-b', text: busy },
      ],
    };
    const { result, kube } = await run('/wh logs deploy/checkout -n shop', options, { maxLogLines: 6 });
    expect(logQueries(kube).map((q) => q.tailLines)).toEqual([3, 3]);
    expect(logs(result).total).toBe(6);
    expect(notes(result)).toEqual([
      'checkout-a/app: read its last 3 lines; older lines, if any, were not read.',
      'checkout-b/app: read its last 3 lines; older lines, if any, were not read.',
    ]);
    const asked = await run('/wh logs deploy/checkout -n shop --tail 5', options, { maxLogLines: 6 });
    expect(notes(asked.result)[0]).toBe(
      'Read the last 3 lines of each container, not 5: at most 6 lines per request.',
    );
  });

  it('asks again for fewer, newer lines when the byte cap cuts the window', async () => {
    const long = log(
      ...Array.from({ length: 10 }, (_, i): [number, string] => [100 - i, `${'x'.repeat(70)} ${i}`]),
    );
    const { result, kube } = await run(
      '/wh logs checkout-a -n shop',
      { pods: [podA], logs: [{ pod: 'checkout-a', text: long }] },
      {
        maxLogBytes: 500,
      },
    );
    const tails = logQueries(kube).map((q) => q.tailLines);
    expect(tails[1]).toBeLessThan(5);
    expect(logs(result).lines.at(-1)).toMatch(/ 9$/);
    expect(notes(result)[0]).toMatch(
      /^checkout-a\/app: read only its last \d+ lines, which fit in 500 bytes; older lines were not read\.$/,
    );
  });

  it('removes a private key that spans several lines', async () => {
    const key = log(
      [30, 'loaded key:'],
      [29, '-----BEGIN RSA PRIVATE KEY-----'],
      [29, 'MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn'],
      [29, '-----END RSA PRIVATE KEY-----'],
      [28, 'ready'],
    );
    const { result } = await run('/wh logs checkout-a -n shop', {
      pods: [podA],
      logs: [{ pod: 'checkout-a', text: key }],
    });
    expect(logs(result).lines.map((l) => l.split(' ').slice(2).join(' '))).toEqual([
      'loaded key:',
      '[REDACTED:private-key]',
      'ready',
    ]);
  });

  it('orders timestamps with different precision correctly', async () => {
    const text =
      '2026-11-25T07:59:00.5Z half\n2026-11-25T07:59:00Z whole\n2026-11-25T07:59:00.123456789Z nanos\n';
    const { result } = await run('/wh logs checkout-a -n shop', {
      pods: [podA],
      logs: [{ pod: 'checkout-a', text }],
    });
    expect(logs(result).lines).toEqual([
      'checkout-a/app 2026-11-25T07:59:00Z whole',
      'checkout-a/app 2026-11-25T07:59:00.123Z nanos',
      'checkout-a/app 2026-11-25T07:59:00.500Z half',
    ]);
  });

  it('shortens very long lines in chat and says where the rest is', async () => {
    const text = log([5, 'y'.repeat(1500)]);
    const { result } = await run('/wh logs checkout-a -n shop', {
      pods: [podA],
      logs: [{ pod: 'checkout-a', text }],
    });
    expect(logs(result).lines[0]).toMatch(/ …\[\d+ more characters in the attachment\]$/);
  });

  it('says so when a workload has no pods', async () => {
    const { result } = await run('/wh logs deploy/checkout -n shop', { deployments: [buildDeployment()] });
    expect(result.summary).toBe('No pods for deploy/checkout in shop.');
  });

  it('passes on a refused log read', async () => {
    const options = {
      ...world,
      identity: { user: 'alice', groups: [] },
      deny: [{ verb: 'get', resource: 'pods/log' }],
    };
    await expect(run('/wh logs checkout-a -n shop', options)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: 'Kubernetes does not allow alice to get pods/log in namespace shop.',
    });
  });

  it('reports an unknown pod', async () => {
    await expect(run('/wh logs ghost -n shop')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'pod/ghost was not found in namespace shop.',
    });
  });
});
