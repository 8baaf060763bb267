import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { withAlertCommands } from '../../../src/alerts/alert-commands.ts';
import type { NewSilence, SilenceApi } from '../../../src/alerts/alertmanager-client.ts';
import { ALERT_THREAD_KIND, initialState, parseIncidentState } from '../../../src/alerts/incident-state.ts';
import { DEFAULT_POLICY } from '../../../src/policy/policy-schema.ts';
import type { Reply, RequestHandler } from '../../../src/runner/types.ts';
import type { Actor } from '../../../src/skills/context.ts';
import { SqliteStore } from '../../../src/store/sqlite-store.ts';
import { alertOf, groupPayload } from '../../support/alert-payloads.ts';

const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const BOB: Actor = {
  surface: 'slack',
  id: 'UBOB',
  name: 'bob',
  kube: { user: 'bob', groups: ['wheelhouse:chat'] },
};
const ANA: Actor = {
  surface: 'slack',
  id: 'UANA',
  name: 'ana',
  kube: { user: 'ana', groups: ['wheelhouse:approvers'] },
};

async function setup(policy = DEFAULT_POLICY) {
  const store = new SqliteStore(':memory:');
  stores.push(store);
  const now = new Date('2026-11-25T09:00:00Z');
  const state = initialState(
    groupPayload('Crash', [alertOf('a', 'firing')]),
    { channel: 'C1', by: 'd' },
    now,
    false,
  );
  await store.runs.create(
    { id: 'inc-1', kind: ALERT_THREAD_KIND, key: state.groupKey, status: 'firing', state },
    now,
  );
  const created: NewSilence[] = [];
  const expired: string[] = [];
  const silences: SilenceApi = {
    async create(base, silence) {
      expect(base).toBe('http://am:9093');
      created.push(silence);
      return `sil-${created.length}`;
    },
    async expire(_base, id) {
      expired.push(id);
    },
  };
  const passed: string[] = [];
  const inner: RequestHandler = {
    async handle(request): Promise<Reply> {
      passed.push(request.text);
      return {
        ok: true,
        requestId: 'r',
        skill: 'x',
        durationMs: 0,
        result: { summary: 'inner', sections: [] },
      };
    },
  };
  const kicked: string[] = [];
  const handler = withAlertCommands(inner, {
    runs: store.runs,
    silences,
    audit: store.audit,
    policy,
    isMapped: () => true,
    alertmanagerUrl: 'http://am:9093',
    kick: (id) => kicked.push(id),
    logger: pino({ level: 'silent' }),
    now: () => now,
    newRequestId: () => `req-${Math.random()}`,
  });
  return { store, handler, created, expired, passed, kicked };
}

describe('silence and unsilence', () => {
  it('silences the group by its labels for the chosen time as an approver, attributed and audited', async () => {
    const { handler, created, store, kicked } = await setup();
    const reply = await handler.handle({ text: 'silence inc-1 --for 8h', actor: ANA });
    expect(reply).toMatchObject({ ok: true });
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      matchers: [
        { name: 'alertname', value: 'Crash', isRegex: false, isEqual: true },
        { name: 'namespace', value: 'shop', isRegex: false, isEqual: true },
      ],
      createdBy: 'ana (slack UANA) via Wheelhouse',
    });
    expect((created[0]?.endsAt.getTime() ?? 0) - (created[0]?.startsAt.getTime() ?? 0)).toBe(8 * 3600_000);
    if (reply.ok) {
      expect(reply.result.sections).toEqual([
        {
          type: 'actions',
          actions: [{ label: 'Expire silence', command: 'unsilence inc-1 sil-1', style: 'danger' }],
        },
      ]);
    }
    const state = parseIncidentState((await store.runs.get('inc-1'))?.state);
    expect(state.silences).toEqual([{ id: 'sil-1', by: 'ana', until: '2026-11-25T17:00:00.000Z' }]);
    expect(kicked).toEqual(['inc-1']);
    const [record] = await store.audit.tail(1);
    expect(record).toMatchObject({
      type: 'alert.silence',
      outcome: 'ok',
      actor: { id: 'UANA', kubeUser: 'ana' },
    });
    expect(record?.input).toMatchObject({ silenceId: 'sil-1', namespace: 'shop', incident: 'inc-1' });
  });

  it('refuses a non-approver where policy wants approval, names the approvers, and audits the refusal', async () => {
    const { handler, created, store } = await setup();
    const reply = await handler.handle({ text: 'silence inc-1 --for 1h', actor: BOB });
    expect(reply.ok).toBe(false);
    if (!reply.ok) {
      expect(reply.error.code).toBe('POLICY_DENIED');
      expect(reply.error.hint).toContain('wheelhouse:approvers');
    }
    expect(created).toHaveLength(0);
    const [record] = await store.audit.tail(1);
    expect(record).toMatchObject({ type: 'alert.silence', outcome: 'denied', errorCode: 'POLICY_DENIED' });
  });

  it('lets anyone silence where policy allows writes', async () => {
    const { handler, created } = await setup({
      ...DEFAULT_POLICY,
      defaults: { ...DEFAULT_POLICY.defaults, write: 'allow' },
    });
    expect(await handler.handle({ text: 'silence inc-1', actor: BOB })).toMatchObject({ ok: true });
    expect((created[0]?.endsAt.getTime() ?? 0) - (created[0]?.startsAt.getTime() ?? 0)).toBe(2 * 3600_000);
  });

  it.each([
    ['silence inc-1 --for forever', 'INVALID_INPUT'],
    ['silence inc-1 --for 30d', 'INVALID_INPUT'],
    ['silence nope --for 1h', 'NOT_FOUND'],
  ])('answers %s with %s', async (text, code) => {
    const { handler, created } = await setup();
    const reply = await handler.handle({ text, actor: ANA });
    expect(reply.ok ? undefined : reply.error.code).toBe(code);
    expect(created).toHaveLength(0);
  });

  it('expires a silence and takes it off the incident', async () => {
    const { handler, expired, store } = await setup();
    await handler.handle({ text: 'silence inc-1 --for 1h', actor: ANA });
    const reply = await handler.handle({ text: 'unsilence inc-1 sil-1', actor: ANA });
    expect(reply).toMatchObject({ ok: true });
    expect(expired).toEqual(['sil-1']);
    expect(parseIncidentState((await store.runs.get('inc-1'))?.state).silences).toEqual([]);
    expect((await store.audit.tail(1))[0]).toMatchObject({ type: 'alert.unsilence', outcome: 'ok' });
  });

  it('passes every other command to the one road unchanged', async () => {
    const { handler, passed } = await setup();
    await handler.handle({ text: 'restart deploy/crashy -n shop', actor: BOB });
    await handler.handle({ text: 'silences', actor: BOB });
    expect(passed).toEqual(['restart deploy/crashy -n shop', 'silences']);
  });
});
