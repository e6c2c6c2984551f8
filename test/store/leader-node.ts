// A child process for the leadership tests: one bella node on PostgreSQL. It waits to become the
// active node and prints JSON lines (`{"active":epoch}`, `{"lost":reason}`); on stdin it takes
// `commit N` (a fenced insert of N into ha_rows: `{"committed":N}` or `{"fenced":…}`) and
// `release`. It keeps its epoch after losing, so a test can see its commits refused.
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

for await (const line of readline.createInterface({ input: process.stdin })) {
  const [command, arg] = line.trim().split(' ');
  if (command === 'commit') {
    const n = Number(arg);
    try {
      await fencedCommit(pool, leadership.epoch, (client) =>
        client.query('INSERT INTO ha_rows (n, epoch) VALUES ($1, $2)', [n, leadership.epoch]),
      );
      say({ committed: n });
    } catch (err) {
      if (!(err instanceof FencedOut)) throw err;
      say({ fenced: { n, current: err.current, message: err.message } });
    }
  } else if (command === 'release') {
    await leadership.release();
    say({ released: true });
  }
}
await pool.end();
