// A child process for the lease table crash test: opens a data dir, then commits rounds of lease
// changes as fast as it can (compacting often, into the lease table), printing each round once it
// is acknowledged, until it is killed.
import { Store } from '../../daemon/store';

const [home, countText] = process.argv.slice(2);
const count = Number(countText);
const store = await Store.open(home!, { journalCompactBytes: 64 * 1024 });
const ids = [...store.state.leases.keys()];
if (ids.length !== count) throw new Error(`expected ${count} leases, found ${ids.length}`);
let round = Math.max(...[...store.state.leases.values()].map((l) => l.uses));
for (;;) {
  round++;
  const r = round;
  await store.transact((state, touched) => {
    ids.forEach((id, i) => {
      if (i % 10 !== r % 10) return;
      state.leases.set(id, { ...state.leases.get(id)!, uses: r });
      touched.lease(id);
    });
    return { result: null, audit: [] };
  });
  process.stdout.write(`acked ${r}\n`);
}
