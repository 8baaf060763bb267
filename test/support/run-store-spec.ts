import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.ts';

const T0 = new Date('2026-11-25T09:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

/** The same specification for every store: keyed creation, compare-and-set updates, listing. */
export function describeRunStore(name: string, open: () => Promise<Store>): void {
  describe(`${name} runs`, () => {
    it('creates a run once per kind and key, and finds it by either', async () => {
      const store = await open();
      const first = await store.runs.create(
        { id: 'r1', kind: 'alert-thread', key: 'group-a', status: 'active', state: { ts: '1.1' } },
        at(0),
      );
      expect(first).toMatchObject({ id: 'r1', version: 1, state: { ts: '1.1' }, key: 'group-a' });
      const duplicate = await store.runs.create(
        { id: 'r2', kind: 'alert-thread', key: 'group-a', status: 'active', state: {} },
        at(1),
      );
      expect(duplicate).toBeUndefined();
      expect(await store.runs.get('r2')).toBeUndefined();
      // The same key under another kind is another run.
      expect(
        await store.runs.create(
          { id: 'r3', kind: 'canary', key: 'group-a', status: 'active', state: {} },
          at(2),
        ),
      ).toMatchObject({ id: 'r3' });
      expect((await store.runs.byKey('alert-thread', 'group-a'))?.id).toBe('r1');
      expect(await store.runs.byKey('alert-thread', 'nope')).toBeUndefined();
      await store.close();
    });

    it('updates only at the version read, so exactly one of two writers wins', async () => {
      const store = await open();
      await store.runs.create(
        { id: 'v1', kind: 'verification', status: 'active', state: { step: 0 } },
        at(0),
      );
      const a = await store.runs.update('v1', 1, { state: { step: 1 } }, at(5));
      const b = await store.runs.update('v1', 1, { state: { step: 2 } }, at(6));
      expect(a).toMatchObject({
        version: 2,
        state: { step: 1 },
        status: 'active',
        updatedAt: at(5).toISOString(),
      });
      expect(b).toBeUndefined();
      const done = await store.runs.update('v1', 2, { status: 'done' }, at(7));
      expect(done).toMatchObject({ version: 3, status: 'done', state: { step: 1 } });
      expect(await store.runs.update('missing', 1, { status: 'done' }, at(8))).toBeUndefined();
      await store.close();
    });

    it('lists a kind oldest first, filtered by status', async () => {
      const store = await open();
      await store.runs.create({ id: 'b', kind: 'verification', status: 'active', state: {} }, at(2));
      await store.runs.create({ id: 'a', kind: 'verification', status: 'done', state: {} }, at(1));
      await store.runs.create({ id: 'c', kind: 'verification', status: 'active', state: {} }, at(3));
      await store.runs.create({ id: 'x', kind: 'canary', status: 'active', state: {} }, at(0));
      expect((await store.runs.list('verification')).map((r) => r.id)).toEqual(['a', 'b', 'c']);
      expect((await store.runs.list('verification', { status: ['active'] })).map((r) => r.id)).toEqual([
        'b',
        'c',
      ]);
      expect(
        (await store.runs.list('verification', { status: ['active'], limit: 1 })).map((r) => r.id),
      ).toEqual(['b']);
      expect(await store.runs.list('pipeline')).toEqual([]);
      await store.close();
    });
  });
}
