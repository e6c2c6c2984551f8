// A child process for the leadership tests: one bella node on PostgreSQL. It waits to become the
// active node and prints JSON lines (`{"active":epoch}`, `{"lost":reason}`); on stdin it takes
// `commit N` (a fenced insert of N into ha_rows: `{"committed":N}`, `{"fenced":…}` or
// `{"failed":…}`), `hold N` (the same, kept open inside its transaction, `{"holding":N}`, until
// `go`) and `release`. It keeps its epoch after losing, so a test can see its commits refused.
import readline from 'node:readline';
import { FencedOut, Leadership, commitPool, fencedCommit } from '../../daemon/store/postgres/leadership';

const { connectionString, node, idleTimeoutMs } = JSON.parse(process.argv[2]!) as {
  connectionString: string;
  node: string;
  idleTimeoutMs: number;
};
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

const pool = await commitPool(connectionString, (message) => say({ log: message }), idleTimeoutMs);
const leadership = await Leadership.acquire({
  connectionString,
  node,
  url: `https://${node}.test:7443`,
  idleTimeoutMs,
  onLost: (reason) => say({ lost: reason }),
});
say({ active: leadership.epoch, at: Date.now() });

let go = () => {};

async function commit(n: number, held: boolean): Promise<void> {
  try {
    await fencedCommit(pool, leadership.epoch, async (client) => {
      await client.query('INSERT INTO ha_rows (n, epoch) VALUES ($1, $2)', [n, leadership.epoch]);
      if (!held) return;
      say({ holding: n });
      await new Promise<void>((resolve) => (go = resolve));
    });
    say({ committed: n });
  } catch (err) {
    if (err instanceof FencedOut) say({ fenced: { n, current: err.current, message: err.message } });
    else say({ failed: { n, message: (err as Error).message } });
  }
}

for await (const line of readline.createInterface({ input: process.stdin })) {
  const [command, arg] = line.trim().split(' ');
  if (command === 'commit') await commit(Number(arg), false);
  else if (command === 'hold') void commit(Number(arg), true);
  else if (command === 'go') go();
  else if (command === 'release') {
    await leadership.release();
    say({ released: true });
  }
}
await pool.end();
