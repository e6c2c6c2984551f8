import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { DaemonClient } from '../../daemon/client';
import { cliPath, ensureBuilt, waitFor, type CliResult } from '../helpers/cli';
import { daemonScript, readLog } from '../helpers/daemon';
import type { Netns, NetnsPair } from '../helpers/netns';

/**
 * A team on two hosts: network namespace A is the owner's box (the daemon, its socket, its
 * listener on PORT); B is where teammates work, each with her own HOME and no bella data of her own.
 * `my-api` has `production` and `staging`, each with DATABASE_URL, REDIS_URL and STRIPE_KEY.
 */
export interface TeamHosts {
  a: Netns;
  b: Netns;
  root: string;
  owner: DaemonClient;
  /** `https://A:PORT`. */
  server: string;
  /** The listener certificate's fingerprint. */
  fingerprint: string;
  /** Each teammate's HOME on B, by name (made on her first command; a test may set one). */
  homes: Record<string, string>;
  /** The owner's real CLI, on A, over the socket. */
  ownerCli(args: string[]): Promise<CliResult>;
  /** A teammate's real CLI on B: her own HOME, no BELLA_SERVER, no token, nothing of the owner's. */
  as(who: string, args: string[], extra?: Record<string, string>): Promise<CliResult>;
  /** Invites `name` with `flags` and joins from B as her. */
  enrol(name: string, ...flags: string[]): Promise<void>;
  stop(): Promise<void>;
}

/** Exit 0, else fails with stderr; returns stdout. */
export function ok(res: CliResult): string {
  expect(res.code, res.stderr).toBe(0);
  return res.stdout;
}

/** Starts the owner's daemon in A (with `env` added, e.g. a D-Bus session) and its listener. */
export async function startTeamHosts(
  pair: NetnsPair,
  env: Record<string, string> = {},
  port = 7443,
): Promise<TeamHosts> {
  const { a, b } = pair;
  ensureBuilt();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-team-'));
  const home = path.join(root, 'owner');
  const socket = path.join(root, 's.sock');
  const log = path.join(root, 'daemon.log');
  const daemon: ChildProcess = a.spawn(process.execPath, [daemonScript, '--home', home, '--socket', socket], {
    stdio: ['ignore', fs.openSync(log, 'a'), fs.openSync(log, 'a')],
    env: { ...process.env, ...env, BELLA_HOME: home },
  });
  const owner = new DaemonClient({ socketPath: socket, timeoutMs: 30_000 });
  await waitFor(() => owner.ping().catch(() => false), `the daemon in ${a.name}:\n${readLog(log)}`, 20_000);
  await owner.call('createProject', { slug: 'my-api', name: 'My API' });
  for (const e of ['production', 'staging']) {
    await owner.call('createEnvironment', { project: 'my-api', slug: e, name: e });
    await owner.call('importSecrets', {
      project: 'my-api',
      environment: e,
      dotenv: `DATABASE_URL=postgres://${e}\nREDIS_URL=redis://${e}\nSTRIPE_KEY=sk_${e}\n`,
    });
  }
  const { listener } = await owner.call('enableListener', { address: `${a.address}:${port}` });
  const homes: Record<string, string> = {};
  const ownerCli = (args: string[]) =>
    a.run(process.execPath, [cliPath, ...args], {
      env: { PATH: process.env.PATH, HOME: root, BELLA_HOME: home, BELLA_SOCKET: socket },
      cwd: root,
    });
  const as = (who: string, args: string[]) => {
    homes[who] ??= fs.mkdtempSync(path.join(root, `${who}-`));
    return b.run(process.execPath, [cliPath, ...args], {
      env: { PATH: process.env.PATH, HOME: homes[who] },
      cwd: homes[who],
    });
  };
  return {
    a,
    b,
    root,
    owner,
    server: `https://${a.address}:${port}`,
    fingerprint: listener.fingerprint!,
    homes,
    ownerCli,
    as,
    async enrol(name, ...flags) {
      const code = ok(await ownerCli(['team', 'invite', name, ...flags])).trim();
      ok(await as(name, ['team', 'join', code]));
    },
    async stop() {
      owner.close();
      daemon.kill('SIGTERM');
      if (daemon.exitCode === null && daemon.signalCode === null) await new Promise((r) => daemon.once('exit', r));
      pair.cleanup();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
