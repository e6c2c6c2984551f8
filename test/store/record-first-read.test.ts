import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../daemon/store';
import type { StoredMember } from '../../daemon/store/schema';
import { startExpectingRefusal, startIn, tempPlace, type DaemonPlace } from '../helpers/daemon';

// Issue 21: the store builds a record kind's schema at the first record of that kind it reads back.
// A daemon's start is that first read: a journaled record it would refuse later is refused then too.

const places: DaemonPlace[] = [];
afterAll(() => {
  for (const p of places.splice(0)) p.cleanup();
});

/** A data dir whose journal holds one commit written by the store's own code, left as a crash leaves it. */
async function journaled(write: (store: Store) => Promise<unknown>): Promise<DaemonPlace> {
  const place = tempPlace('bella-first-read');
  places.push(place);
  const store = await Store.open(place.home);
  await write(store);
  // No close: a clean close folds the journal into the snapshot; this leaves the commit to replay.
  return place;
}

const member = (role: string): StoredMember =>
  ({
    id: 'mem_aaaaaaaaaaaaaaaa',
    name: 'alice',
    role,
    grants: [],
    createdAt: Date.now(),
    removedAt: null,
  }) as StoredMember;

describe('a journaled record read back at start', () => {
  it('is refused at the first read of its kind, naming the journal and the field; a valid one is read', async () => {
    const cases: Array<{ write: (store: Store) => Promise<unknown>; says: RegExp }> = [
      {
        write: (store) =>
          store.transact((state, touched) => {
            state.projects.web = { slug: 'web', name: 'x'.repeat(201), createdAt: Date.now(), environments: {} };
            touched.project('web');
            return { result: null, audit: [] };
          }),
        says: /invalid record \(v\.name: /,
      },
      {
        write: (store) =>
          store.transact((state, touched) => {
            state.members.set('mem_aaaaaaaaaaaaaaaa', member('owner'));
            touched.record('member', 'mem_aaaaaaaaaaaaaaaa');
            return { result: null, audit: [] };
          }),
        says: /invalid record \(v\.role: /,
      },
    ];
    for (const c of cases) {
      const place = await journaled(c.write);
      const run = await startExpectingRefusal({ home: place.home, socket: place.socket });
      expect(run.served).toBe(false);
      expect(run.code).toBe(1);
      expect(run.output).toMatch(/state\.journal/);
      expect(run.output).toMatch(c.says);
    }

    // The same kind, valid, is read back and served.
    const place = await journaled((store) =>
      store.transact((state, touched) => {
        state.members.set('mem_aaaaaaaaaaaaaaaa', member('member'));
        touched.record('member', 'mem_aaaaaaaaaaaaaaaa');
        return { result: null, audit: [] };
      }),
    );
    const daemon = await startIn(place);
    try {
      const { members } = await daemon.client.call('listTeam', {});
      expect(members.map((m) => m.name)).toContain('alice');
    } finally {
      await daemon.stop();
    }
  }, 60_000);
});
