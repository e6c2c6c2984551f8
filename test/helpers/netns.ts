import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { collect, type CliResult } from './cli';

/**
 * Two "hosts" for tests: two Linux network namespaces joined by a veth pair, each with its own
 * loopback and one address of a private /30 that exists only inside them. Nothing is added to
 * the machine's own network namespace, so test traffic stays between the two (or on their
 * loopbacks). Needs root (CI runs as root) and iproute2's `ip`.
 */

/** One side of a {@link NetnsPair}. */
export interface Netns {
  /** The namespace's name (`ip netns exec NAME …`). */
  name: string;
  /** This side's address on the link. */
  address: string;
  /** The other side's address. */
  peer: string;
  /** Starts `command args…` inside the namespace; it is killed by `cleanup` if still running. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs `command args…` inside the namespace and collects its output. */
  run(
    command: string,
    args: string[],
    options?: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number },
  ): Promise<CliResult>;
}

/** Two namespaces A and B on one /30. */
export interface NetnsPair {
  a: Netns;
  b: Netns;
  /** The /30, e.g. `10.199.37.0/30`. */
  subnet: string;
  /** Kills what was spawned in them and deletes both namespaces (and so the veth pair). Idempotent. */
  cleanup(): void;
}

/** A pair, or why there can be none here (for a test that must skip and say so). */
export type NetnsAvailability = { ok: true; pair: NetnsPair } | { ok: false; reason: string };

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

function failure(err: unknown): string {
  const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
  return stderr || (err as Error).message;
}

/**
 * Creates namespaces `bella-a-<rand>` and `bella-b-<rand>`, a veth pair between them with
 * 10.199.X.1/30 and 10.199.X.2/30, and brings the links (and each `lo`) up. Cleanup is also
 * registered for process exit, so a failing test does not leak namespaces.
 */
export function createNetnsPair(): NetnsAvailability {
  if (process.platform !== 'linux')
    return { ok: false, reason: `network namespaces exist only on Linux, not ${process.platform}` };
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return { ok: false, reason: 'the ip command (Debian package iproute2) is not installed' };
  }
  const tag = randomBytes(4).toString('hex');
  const names = { a: `bella-a-${tag}`, b: `bella-b-${tag}` };
  // Interface names are limited to 15 bytes.
  const links = { a: `bva${tag}`, b: `bvb${tag}` };
  const x = randomInt(0, 256);
  const addresses = { a: `10.199.${x}.1`, b: `10.199.${x}.2` };
  const created: string[] = [];
  const children = new Set<ChildProcess>();
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    process.off('exit', cleanup);
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const name of created.reverse()) {
      try {
        ip(['netns', 'delete', name]);
      } catch {
        // Already gone.
      }
    }
  };
  process.on('exit', cleanup);
  try {
    for (const name of [names.a, names.b]) {
      ip(['netns', 'add', name]);
      created.push(name);
    }
    // Made inside A with its peer in B: the machine's own namespace never sees either end.
    ip(['-n', names.a, 'link', 'add', links.a, 'type', 'veth', 'peer', 'name', links.b, 'netns', names.b]);
    for (const side of ['a', 'b'] as const) {
      ip(['-n', names[side], 'addr', 'add', `${addresses[side]}/30`, 'dev', links[side]]);
      ip(['-n', names[side], 'link', 'set', 'lo', 'up']);
      ip(['-n', names[side], 'link', 'set', links[side], 'up']);
    }
    execFileSync('ip', ['netns', 'exec', names.a, 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (err) {
    cleanup();
    return {
      ok: false,
      reason: `cannot set up network namespaces here (ip: ${failure(err)}); they need root or CAP_SYS_ADMIN and CAP_NET_ADMIN`,
    };
  }
  const side = (which: 'a' | 'b'): Netns => {
    const other = which === 'a' ? 'b' : 'a';
    const spawnIn = (command: string, args: string[], options: SpawnOptions = {}) => {
      const child = spawn('ip', ['netns', 'exec', names[which], command, ...args], options);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    };
    return {
      name: names[which],
      address: addresses[which],
      peer: addresses[other],
      spawn: spawnIn,
      run: (command, args, options = {}) =>
        collect(
          spawnIn(command, args, {
            cwd: options.cwd,
            env: options.env ?? process.env,
            stdio: ['pipe', 'pipe', 'pipe'],
          }),
          options.input,
          options.timeoutMs ?? 30_000,
        ),
    };
  };
  return { ok: true, pair: { a: side('a'), b: side('b'), subnet: `10.199.${x}.0/30`, cleanup } };
}
