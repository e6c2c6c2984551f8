import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../daemon/store';
import { deriveKeys, loadMasterKey } from '../../daemon/store/crypto';
import { leaseTableDir } from '../../daemon/store/lease-table';
import { readSnapshot } from '../../daemon/store/snapshot';
import { repoRoot, startIn, tempPlace, tokenRead, type DaemonPlace, type StartOptions } from '../helpers/daemon';

/**
 * A data dir written by the build before the lease table (920d23e: every lease in state.snapshot,
 * state schema 3), kept as a fixture: 1,200 leases issued by that daemon (5 revoked), stopped
 * cleanly. `made.json` holds the tokens and when it was made.
 */
const FIXTURE = path.join(repoRoot, 'test', 'fixtures', 'data-dir-schema3');
const LEASES = 1_200;
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/** Copies the fixture into a fresh place with the modes bella gives its files (git keeps none). */
function copyFixture(place: DaemonPlace): void {
  fs.cpSync(path.join(FIXTURE, 'home'), place.home, { recursive: true });
  const walk = (dir: string): void => {
    fs.chmodSync(dir, 0o700);
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else fs.chmodSync(p, 0o600);
    }
  };
  walk(place.home);
}

/**
 * The fixture's leases had a 1-hour ttl when it was made: this build's daemon runs under
 * libfaketime with its wall clock set back to a minute after that moment, so they are live.
 */
function atFixtureTime(madeAt: string): Partial<StartOptions> {
  if (!fs.existsSync(LIBFAKETIME)) {
    throw new Error(`${LIBFAKETIME} is missing: install Debian's faketime package (.ci/run does)`);
  }
  const offset = Math.floor((Date.parse(madeAt) + 60_000 - Date.now()) / 1000);
  return {
    env: {
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME: `${offset < 0 ? offset : `+${offset}`}`,
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    },
  };
}

/**
 * A data dir written by the build before the lease table, migrated by this one: nothing lost,
 * rewritten with the leases in the lease table, and read back from it at the next start.
 */
describe('migration: a data dir of the build before the lease table', () => {
  let place: DaemonPlace;

  beforeAll(() => {
    place = tempPlace('bella-migrate');
    copyFixture(place);
  });
  afterAll(() => place?.cleanup());

  it('opens it, loses nothing, moves its leases to the lease table and reads them from there next time', async () => {
    const made = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'made.json'), 'utf8')) as {
      madeAt: string;
      tokens: string[];
    };
    const tokens = made.tokens;
    const clock = atFixtureTime(made.madeAt);
    const snapshotFile = path.join(place.home, 'state.snapshot');
    const written = fs.readFileSync(snapshotFile, 'utf8');
    expect(written).toContain('"schema":3');
    expect(written.split('"t":"lease"').length - 1).toBe(LEASES);
    expect(fs.existsSync(leaseTableDir(place.home))).toBe(false);
    const keys = deriveKeys(await loadMasterKey(path.join(place.home, 'master.key'), false));
    const before = readSnapshot(snapshotFile, keys.logKey, '').state;

    // This build: starts on it, serves the old tokens and secrets, and rewrote the layout.
    let daemon = await startIn(place, clock);
    try {
      const read = await tokenRead(place.socket, tokens.at(-1)!);
      expect(read.status).toBe(200);
      expect(JSON.parse(read.body)).toMatchObject({ secrets: { API_KEY: 'k-1' } });
      expect((await tokenRead(place.socket, tokens[0]!)).status).toBe(401);
      expect((await daemon.client.call('listLeases', {})).total).toBe(LEASES - 5);
    } finally {
      await daemon.stop();
    }
    const migrated = fs.readFileSync(snapshotFile, 'utf8');
    expect(migrated).toContain('"schema":4');
    expect(migrated).not.toContain('"t":"lease"');
    expect(fs.readdirSync(leaseTableDir(place.home)).length).toBeGreaterThan(0);

    // Read back from the lease table: the same leases (in the same order), projects and secrets.
    const store = await Store.open(place.home);
    try {
      const leases = [...store.state.leases.values()].map(({ lastUsedAt: _u, uses: _n, ...rest }) => rest);
      const expected = [...before.leases.values()].map(({ lastUsedAt: _u, uses: _n, ...rest }) => rest);
      expect(leases).toEqual(expected);
      expect(store.state.projects).toEqual(before.projects);
    } finally {
      await store.close();
    }
    daemon = await startIn(place, clock);
    try {
      expect((await tokenRead(place.socket, tokens.at(-1)!)).status).toBe(200);
    } finally {
      await daemon.stop();
    }
  }, 180_000);
});
