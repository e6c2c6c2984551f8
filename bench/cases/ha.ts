import fs from 'node:fs';
import path from 'node:path';
import { rawRequest, seed, startIn, tempPlace, type DaemonHandle, type DaemonPlace } from '../../test/helpers/daemon';
import { startPostgres } from '../../test/helpers/postgres';
import { benchDaemon, cannon, median, round } from '../lib';
import { readLease } from './reads';

/** Figures of the ha case, as written to latest.json. */
export interface HaResult {
  /** The slowest of the failovers: kill -9 of the active node → the first token read the other answers. */
  failover_read_ms: number;
  /** The slowest: kill -9 → the first lease the other node issues. */
  failover_issue_ms: number;
  /** Audited token reads/s of a daemon on PostgreSQL ÷ the same on its files, same load, same machine. */
  reads_ratio_to_files: number;
  postgres_rps: number;
  files_rps: number;
  failovers: number;
}

/** Polls `attempt` every 2 ms until it succeeds; resolves with the ms since `from`. */
async function firstSuccess(from: number, attempt: () => Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  for (;;) {
    if (await attempt().catch(() => false)) return Date.now() - from;
    if (Date.now() - from > timeoutMs) throw new Error(`ha: nothing answered within ${timeoutMs} ms of the kill`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * Two daemons on one PostgreSQL (fsync on, loopback): `failovers` times, kill -9 of the active node
 * and the time until the standby answers a token read, and issues a lease (each measured in its own
 * failover, so one does not wait for the other); then audited token reads of 3 keys at 64
 * connections, on PostgreSQL and on a daemon of its own files, alternated.
 */
export async function haCase(
  failovers: number,
  durationS: number,
): Promise<HaResult & { read_ms: number[]; issue_ms: number[] }> {
  const pg = await startPostgres(undefined, { durable: true });
  const places: DaemonPlace[] = [];
  const running = new Set<DaemonHandle>();
  try {
    pg.sql('CREATE DATABASE bella');
    const args = (name: string) => ['--store', pg.url('bella'), '--node', name];
    const place = (name: string) => {
      const p = tempPlace(`bella-bench-ha-${name}`);
      places.push(p);
      return p;
    };
    const start = async (p: DaemonPlace, name: string) => {
      const daemon = await startIn(p, { args: args(name), clientTimeoutMs: 120_000 });
      running.add(daemon);
      return daemon;
    };
    const active = async (daemon: DaemonHandle) => {
      const { storage } = await daemon.client.call('status', {});
      return storage.kind === 'postgres' && storage.role === 'active';
    };
    const places2 = [place('a'), place('b')];
    let first = await start(places2[0]!, 'a');
    for (let i = 0; i < 500 && !(await active(first)); i++) await new Promise((r) => setTimeout(r, 10));
    const { project, environment } = await seed(first.client);
    const token = await readLease(first.client, project, environment);
    fs.mkdirSync(places2[1]!.home, { recursive: true, mode: 0o700 });
    fs.copyFileSync(path.join(places2[0]!.home, 'master.key'), path.join(places2[1]!.home, 'master.key'));
    let second = await start(places2[1]!, 'b');
    const headers = { authorization: `Bearer ${token}` };
    const readMs: number[] = [];
    const issueMs: number[] = [];
    for (let i = 0; i < failovers * 2; i++) {
      const measuringReads = i % 2 === 0;
      const killed = Date.now();
      await first.kill9();
      running.delete(first);
      const survivor = second;
      const ms = await firstSuccess(killed, async () =>
        measuringReads
          ? (await rawRequest(survivor.socket, { method: 'GET', path: '/v1/secrets', headers })).status === 200
          : Boolean(
              await survivor.client.call('issueLease', {
                project,
                environment,
                scope: ['API_KEY'],
                ttlSeconds: 600,
                reason: 'bench failover',
              }),
            ),
      );
      (measuringReads ? readMs : issueMs).push(ms);
      const restarted = await start(places2[i % 2]!, i % 2 === 0 ? 'a' : 'b');
      [first, second] = [survivor, restarted];
    }

    // Reads on PostgreSQL and on files alternated, 3 runs each (the host's load swings): medians.
    const files = await benchDaemon('ha-files');
    places.push(files.place);
    running.add(files.daemon);
    const seeded = await seed(files.daemon.client);
    const filesToken = await readLease(files.daemon.client, seeded.project, seeded.environment);
    const reads = async (socketPath: string, bearer: string, duration = durationS) => {
      const out = await cannon({
        url: 'http://localhost/v1/secrets',
        socketPath,
        connections: 64,
        duration,
        headers: { authorization: `Bearer ${bearer}` },
      });
      if (out.non2xx || out.errors) throw new Error(`ha: ${out.non2xx} non-2xx answers and ${out.errors} errors`);
      return out['2xx'] / out.duration;
    };
    await reads(first.socket, token, 1);
    await reads(files.daemon.socket, filesToken, 1);
    const onPostgres: number[] = [];
    const onFiles: number[] = [];
    for (let i = 0; i < 3; i++) {
      onPostgres.push(await reads(first.socket, token));
      onFiles.push(await reads(files.daemon.socket, filesToken));
    }
    const postgresRps = median(onPostgres);
    const filesRps = median(onFiles);
    return {
      failover_read_ms: Math.max(...readMs),
      failover_issue_ms: Math.max(...issueMs),
      reads_ratio_to_files: round(postgresRps / filesRps, 3),
      postgres_rps: round(postgresRps, 0),
      files_rps: round(filesRps, 0),
      failovers: failovers * 2,
      read_ms: readMs,
      issue_ms: issueMs,
    };
  } finally {
    for (const daemon of running) await daemon.stop().catch(() => undefined);
    for (const p of places) p.cleanup();
    pg.destroy();
  }
}
