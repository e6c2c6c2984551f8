import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetnsLan } from './netns';
import { startPostgres, type PgCluster } from './postgres';

// The LAN the HA tests stand on: hosts in namespaces of the test's own around a bridge, one of them
// running a private PostgreSQL on its address; a host's link can be cut (packets lost) and mended.

const made = createNetnsLan(['db', 'a', 'b', 'holder']);
if (!made.ok) throw new Error(`this test needs network namespaces: ${made.reason}`);
const { lan } = made;
let cluster: PgCluster | undefined;

afterAll(() => {
  cluster?.destroy();
  lan.cleanup();
});

/** `SELECT 1` from `host` to the cluster over TCP, giving up after 2 s. */
async function reaches(host: string): Promise<boolean> {
  const res = await lan.hosts[host]!.run('psql', ['-X', '-At', cluster!.url(), '-c', 'SELECT 1'], {
    env: { ...process.env, PGCONNECT_TIMEOUT: '2' },
  });
  return res.code === 0 && res.stdout.trim() === '1';
}

describe('a LAN of network namespaces', () => {
  it('puts every host on one private /28, with PostgreSQL on one of them reachable from the others', async () => {
    const addresses = Object.values(lan.hosts).map((h) => h.address);
    expect(new Set(addresses).size).toBe(4);
    const prefix = lan.subnet.replace(/\.\d+\/28$/, '.');
    for (const address of addresses) expect(address.startsWith(prefix)).toBe(true);
    cluster = await startPostgres(lan.hosts.db);
    expect(cluster.url()).toContain(`@${lan.hosts.db!.address}:5432/`);
    for (const host of ['a', 'b', 'holder']) expect(await reaches(host)).toBe(true);
    // The machine's own namespace has no route to it.
    expect(execFileSync('ip', ['route', 'get', lan.hosts.db!.address], { encoding: 'utf8' })).not.toMatch(
      /dev br0|dev bh/,
    );
  });

  it('a cut host loses its packets until it is mended; the others go on', async () => {
    lan.cut('a');
    expect(await reaches('a')).toBe(false);
    expect(await reaches('b')).toBe(true);
    lan.mend('a');
    expect(await reaches('a')).toBe(true);
  });

  it('cleanup removes every namespace it made', () => {
    const names = Object.values(lan.hosts).map((h) => h.name);
    cluster?.destroy();
    cluster = undefined;
    lan.cleanup();
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    for (const name of names) expect(left).not.toContain(name);
    expect(left).not.toContain(names[0]!.replace(/^bella-h0-/, 'bella-hub-'));
  });
});
