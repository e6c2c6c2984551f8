/**
 * The daemon's own CPU time (user + system, from /proc/PID/stat) per audited token read, on the
 * owner's socket and over the TLS listener: steadier than wall-clock rates on a shared machine
 * (other processes' load does not add to it), where instruction counters are not available.
 * `npx tsx bench/cpu-per-read.ts [reads]` prints JSON.
 */
import fs from 'node:fs';
import { seed } from '../test/helpers/daemon';
import { benchDaemon, cannon, freePort, round } from './lib';

const TICK_US = 10_000; // USER_HZ = 100

function cpuUs(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

async function main(): Promise<void> {
  const amount = Number(process.argv[2] ?? 40_000);
  const { daemon, place } = await benchDaemon('cpu-per-read');
  try {
    const { project, environment } = await seed(daemon.client);
    const port = await freePort();
    await daemon.client.call('enableListener', { address: `127.0.0.1:${port}` });
    const issued = await daemon.client.call('issueLease', {
      project,
      environment,
      scope: ['API_KEY', 'DB_URL', 'STRIPE_KEY'],
      ttlSeconds: 3600,
      reason: 'bench cpu per read',
    });
    const headers = { authorization: `Bearer ${issued.token}` };
    const measure = async (options: { url: string; socketPath?: string; servername?: string }) => {
      await cannon({ ...options, connections: 16, amount: 2000, headers });
      const before = cpuUs(daemon.pid);
      const result = await cannon({ ...options, connections: 16, amount, headers });
      const used = cpuUs(daemon.pid) - before;
      if (result.non2xx || result.errors) throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
      return round(used / result['2xx'], 1);
    };
    const socket = await measure({ url: 'http://localhost/v1/secrets', socketPath: daemon.socket });
    // autocannon connects without verifying the certificate; `servername` only avoids SNI with an IP.
    const listener = await measure({ url: `https://127.0.0.1:${port}/v1/secrets`, servername: 'localhost' });
    console.log(JSON.stringify({ reads: amount, socket_cpu_us_per_read: socket, listener_cpu_us_per_read: listener }));
  } finally {
    await daemon.stop();
    place.cleanup();
  }
}

await main();
