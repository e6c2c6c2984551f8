import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Netns } from './netns';
import { freePort } from './daemon';

// A private PostgreSQL cluster per test file (Debian's postgresql 15): initdb as the `postgres` OS
// user in a temp dir, listening only on 127.0.0.1 on a free port (or on the address of a network
// namespace of the test's own), its unix socket in the temp dir, SCRAM password auth for TCP.
// Stopped with `pg_ctl stop -m immediate` and removed after.

const BIN = '/usr/lib/postgresql/15/bin';

/** A running private cluster. */
export interface PgCluster {
  port: number;
  /** The superuser's name and password. */
  admin: string;
  password: string;
  dir: string;
  /** `postgres://admin:pw@127.0.0.1:PORT/DB`. */
  url(db?: string, user?: string, password?: string): string;
  /** Runs SQL as the superuser over the unix socket (psql -At), returns stdout. */
  sql(query: string, db?: string): string;
  /** Runs `psql` against a URL; returns its exit code, stdout and stderr (never throws). */
  psql(url: string, query: string): { code: number; stdout: string; stderr: string };
  /** Stops the cluster at once (for "Postgres down"); `start` brings it back on the same port. */
  stop(): void;
  start(): void;
  /** SIGSTOP / SIGCONT every process of the cluster: connections and queries hang meanwhile. */
  freeze(): void;
  thaw(): void;
  /** Stops it and removes its directory. */
  destroy(): void;
}

function asPostgres(args: string[], input?: string): string {
  return execFileSync('runuser', ['-u', 'postgres', '--', ...args], {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/**
 * Starts a private cluster; call `destroy()` in afterAll. With `host` (a network namespace of the
 * test's own) it runs there and listens on that host's address instead of 127.0.0.1. Commits are
 * not fsynced (tests need not survive a power cut) unless `durable` (the bench compares bella on
 * PostgreSQL with bella on its own files, which fsync).
 */
export async function startPostgres(host?: Netns, { durable = false } = {}): Promise<PgCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-pg-'));
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  fs.mkdirSync(data, { mode: 0o700 });
  fs.mkdirSync(sock, { mode: 0o755 });
  const pwFile = path.join(dir, 'pw');
  const admin = 'bella_admin';
  const password = randomBytes(12).toString('hex');
  fs.writeFileSync(pwFile, password);
  execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  asPostgres([
    `${BIN}/initdb`,
    '-D',
    data,
    '-U',
    admin,
    `--pwfile=${pwFile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  fs.rmSync(pwFile);
  // Hosts of the namespace's network log in with a password too (pg_hba's own lines name loopback only).
  if (host) fs.appendFileSync(path.join(data, 'pg_hba.conf'), 'host all all samenet scram-sha-256\n');
  // A fresh namespace has no other listener: any port is free there.
  const port = host ? 5432 : await freePort();
  const address = host?.address ?? '127.0.0.1';
  const opts = `-c listen_addresses=${address} -c port=${port} -c unix_socket_directories=${sock} -c fsync=${durable ? 'on' : 'off'} -c max_connections=100`;
  const logFile = path.join(dir, 'log');
  const start = () => {
    const command = [`${BIN}/pg_ctl`, '-D', data, '-l', logFile, '-o', opts, '-w', 'start'];
    if (host)
      execFileSync('ip', ['netns', 'exec', host.name, 'runuser', '-u', 'postgres', '--', ...command], {
        stdio: 'pipe',
      });
    else asPostgres(command);
  };
  const stop = () => {
    spawnSync('runuser', ['-u', 'postgres', '--', `${BIN}/pg_ctl`, '-D', data, '-m', 'immediate', '-w', 'stop'], {
      stdio: 'ignore',
    });
  };
  const pids = (): number[] => {
    const pidFile = path.join(data, 'postmaster.pid');
    if (!fs.existsSync(pidFile)) return [];
    const main = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    const children = spawnSync('pgrep', ['-P', String(main)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map(Number);
    return [main, ...children];
  };
  start();
  const cluster: PgCluster = {
    port,
    admin,
    password,
    dir,
    url: (db = 'postgres', user = admin, pw = password) =>
      `postgres://${encodeURIComponent(user)}:${encodeURIComponent(pw)}@${address}:${port}/${db}`,
    sql: (query, db = 'postgres') =>
      asPostgres(
        ['psql', '-X', '-v', 'ON_ERROR_STOP=1', '-h', sock, '-p', String(port), '-U', admin, '-d', db, '-At'],
        query,
      ),
    psql(url, query) {
      const res = spawnSync('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-At', url, '-c', query], {
        encoding: 'utf8',
        env: { ...process.env, PGCONNECT_TIMEOUT: '5' },
      });
      return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
    },
    stop,
    start,
    freeze: () => {
      for (const pid of pids()) process.kill(pid, 'SIGSTOP');
    },
    thaw: () => {
      for (const pid of pids()) process.kill(pid, 'SIGCONT');
    },
    destroy() {
      try {
        this.thaw();
      } catch {
        // not running
      }
      stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}
