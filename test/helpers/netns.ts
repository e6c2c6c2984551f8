import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { collect, type CliResult } from './cli';

/**
 * Two "hosts" for tests: two Linux network namespaces joined by a veth pair, each with its own
 * loopback and one address of a private /30 that exists only inside them. Nothing is added to
 * the machine's own network namespace, so test traffic stays between the two (or on their
 * loopbacks). Needs root (CI runs as root) and iproute2's `ip`.
 */

/** One host: a namespace of the test's own. */
export interface Netns {
  /** The namespace's name (`ip netns exec NAME …`). */
  name: string;
  /** This host's address on its link. */
  address: string;
  /** Starts `command args…` inside the namespace; it is killed by `cleanup` if still running. */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  /** Runs `command args…` inside the namespace and collects its output. */
  run(
    command: string,
    args: string[],
    options?: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number },
  ): Promise<CliResult>;
}

/** One side of a {@link NetnsPair}. */
export interface PairHost extends Netns {
  /** The other side's address. */
  peer: string;
}

/** Two namespaces A and B on one /30. */
export interface NetnsPair {
  a: PairHost;
  b: PairHost;
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

/** The namespaces a test made, what it spawned in them, and their removal. */
interface Namespaces {
  created: string[];
  host(name: string, address: string): Netns;
  cleanup(): void;
}

/** Checks `ip` can be used here: null, or why not. */
function unavailable(): string | null {
  if (process.platform !== 'linux') return `network namespaces exist only on Linux, not ${process.platform}`;
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'the ip command (Debian package iproute2) is not installed';
  }
  return null;
}

function cannotSetUp(err: unknown): string {
  return `cannot set up network namespaces here (ip: ${failure(err)}); they need root or CAP_SYS_ADMIN and CAP_NET_ADMIN`;
}

/** Tracks namespaces and children; cleanup is also registered for process exit, so a failing test leaks nothing. */
function namespaces(): Namespaces {
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
  const host = (name: string, address: string): Netns => {
    const spawnIn = (command: string, args: string[], options: SpawnOptions = {}) => {
      const child = spawn('ip', ['netns', 'exec', name, command, ...args], options);
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    };
    return {
      name,
      address,
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
  return { created, host, cleanup };
}

function addNamespace(ns: Namespaces, name: string): void {
  ip(['netns', 'add', name]);
  ns.created.push(name);
  ip(['-n', name, 'link', 'set', 'lo', 'up']);
}

/**
 * Creates namespaces `bella-a-<rand>` and `bella-b-<rand>`, a veth pair between them with
 * 10.199.X.1/30 and 10.199.X.2/30, and brings the links (and each `lo`) up.
 */
export function createNetnsPair(): NetnsAvailability {
  const why = unavailable();
  if (why) return { ok: false, reason: why };
  const tag = randomBytes(4).toString('hex');
  const names = { a: `bella-a-${tag}`, b: `bella-b-${tag}` };
  // Interface names are limited to 15 bytes.
  const links = { a: `bva${tag}`, b: `bvb${tag}` };
  const x = randomInt(0, 256);
  const addresses = { a: `10.199.${x}.1`, b: `10.199.${x}.2` };
  const ns = namespaces();
  try {
    for (const name of [names.a, names.b]) addNamespace(ns, name);
    // Made inside A with its peer in B: the machine's own namespace never sees either end.
    ip(['-n', names.a, 'link', 'add', links.a, 'type', 'veth', 'peer', 'name', links.b, 'netns', names.b]);
    for (const side of ['a', 'b'] as const) {
      ip(['-n', names[side], 'addr', 'add', `${addresses[side]}/30`, 'dev', links[side]]);
      ip(['-n', names[side], 'link', 'set', links[side], 'up']);
    }
    execFileSync('ip', ['netns', 'exec', names.a, 'true'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (err) {
    ns.cleanup();
    return { ok: false, reason: cannotSetUp(err) };
  }
  const pair = {
    a: { ...ns.host(names.a, addresses.a), peer: addresses.b },
    b: { ...ns.host(names.b, addresses.b), peer: addresses.a },
    subnet: `10.199.${x}.0/30`,
    cleanup: ns.cleanup,
  };
  return { ok: true, pair };
}

/** Several hosts on one private /28, and a link of each that can be cut and mended. */
export interface NetnsLan {
  /** The hosts by the names given. */
  hosts: Record<string, Netns>;
  /** The /28, e.g. `10.198.37.16/28`. */
  subnet: string;
  /** Takes a host off the network (its link down): packets to and from it are lost, not refused. */
  cut(name: string): void;
  /** Puts it back, forgetting the addresses every host failed to resolve meanwhile. */
  mend(name: string): void;
  /** Kills what was spawned and deletes every namespace (and so the bridge and links). Idempotent. */
  cleanup(): void;
}

/** A LAN, or why there can be none here. */
export type NetnsLanAvailability = { ok: true; lan: NetnsLan } | { ok: false; reason: string };

/**
 * Hosts for tests of more than two machines (two bella daemons, their PostgreSQL, holders): a
 * namespace per host and one more holding a bridge, each host joined to it by a veth pair, with
 * addresses 10.198.X.(16k+1…) of a /28 that exists only inside them. Nothing is added to the
 * machine's own network namespace. At most 14 hosts.
 */
export function createNetnsLan(names: readonly string[]): NetnsLanAvailability {
  const why = unavailable();
  if (why) return { ok: false, reason: why };
  if (names.length < 1 || names.length > 14 || new Set(names).size !== names.length) {
    throw new Error(`a LAN takes 1 to 14 distinct host names, not ${JSON.stringify(names)}`);
  }
  const tag = randomBytes(4).toString('hex');
  const x = randomInt(0, 256);
  const base = 16 * randomInt(0, 16);
  const hub = `bella-hub-${tag}`;
  const nsOf = (i: number) => `bella-h${i}-${tag}`;
  const address = (i: number) => `10.198.${x}.${base + i + 1}`;
  const hubLink = (i: number) => `bh${i}${tag}`;
  const ns = namespaces();
  try {
    addNamespace(ns, hub);
    ip(['-n', hub, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', hub, 'link', 'set', 'br0', 'up']);
    names.forEach((_, i) => {
      addNamespace(ns, nsOf(i));
      ip(['-n', hub, 'link', 'add', hubLink(i), 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nsOf(i)]);
      ip(['-n', hub, 'link', 'set', hubLink(i), 'master', 'br0']);
      ip(['-n', hub, 'link', 'set', hubLink(i), 'up']);
      ip(['-n', nsOf(i), 'addr', 'add', `${address(i)}/28`, 'dev', 'eth0']);
      ip(['-n', nsOf(i), 'link', 'set', 'eth0', 'up']);
    });
  } catch (err) {
    ns.cleanup();
    return { ok: false, reason: cannotSetUp(err) };
  }
  const index = (name: string) => {
    const i = names.indexOf(name);
    if (i < 0) throw new Error(`no host ${name} on this LAN`);
    return i;
  };
  const hosts = Object.fromEntries(names.map((name, i) => [name, ns.host(nsOf(i), address(i))]));
  return {
    ok: true,
    lan: {
      hosts,
      subnet: `10.198.${x}.${base}/28`,
      cut: (name) => ip(['-n', hub, 'link', 'set', hubLink(index(name)), 'down']),
      mend: (name) => {
        ip(['-n', hub, 'link', 'set', hubLink(index(name)), 'up']);
        // Addresses whose resolution failed while cut would answer "no route" for a while yet.
        for (let i = 0; i < names.length; i++) ip(['-n', nsOf(i), 'neigh', 'flush', 'all']);
      },
      cleanup: ns.cleanup,
    },
  };
}
