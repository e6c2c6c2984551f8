import { execSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../daemon/store';
import { deriveKeys, loadMasterKey } from '../../daemon/store/crypto';
import { leaseTableDir } from '../../daemon/store/lease-table';
import { readSnapshot } from '../../daemon/store/snapshot';
import { repoRoot, seed, startIn, tempPlace, tokenRead, type DaemonPlace } from '../helpers/daemon';

/** The last commit whose store kept every lease in state.snapshot (one snapshot file, state schema 3). */
const BEFORE_LEASE_TABLE = '920d23e';
const LEASES = 1_200;

/**
 * A data dir written by the build before the lease table, migrated by this one: nothing lost,
 * rewritten with the leases in the lease table, and read back from it at the next start.
 */
describe('migration: a data dir of the build before the lease table', () => {
  let root: string;
  let oldDaemon: string;
  let place: DaemonPlace;

  beforeAll(() => {
    // That build, from the repository's own history, built as `npm run build:daemon` builds this one.
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-old-build-'));
    const src = path.join(root, 'src');
    fs.mkdirSync(src);
    execSync(`git archive ${BEFORE_LEASE_TABLE} | tar -x -C ${JSON.stringify(src)}`, { cwd: repoRoot, stdio: 'pipe' });
    fs.symlinkSync(path.join(repoRoot, 'node_modules'), path.join(src, 'node_modules'));
    execSync('npm run --silent build:daemon', { cwd: src, stdio: 'pipe' });
    oldDaemon = path.join(src, 'dist', 'daemon.js');
    place = tempPlace('bella-migrate');
  }, 120_000);
  afterAll(() => {
    place?.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('opens it, loses nothing, moves its leases to the lease table and reads them from there next time', async () => {
    // Written by the old daemon: secrets, many leases (some revoked), stopped cleanly.
    const old = await startIn(place, { script: oldDaemon });
    const tokens: string[] = [];
    try {
      const { project, environment } = await seed(old.client);
      for (let done = 0; done < LEASES; done += 200) {
        const batch = await Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            old.client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: `old ${done + i}` }),
          ),
        );
        tokens.push(...batch.map((b) => b.token));
      }
      const ids = tokens.map((t) => t.split('-')[1]!);
      for (const id of ids.slice(0, 5)) await old.client.call('revokeLease', { id });
    } finally {
      await old.stop();
    }
    const snapshotFile = path.join(place.home, 'state.snapshot');
    const written = fs.readFileSync(snapshotFile, 'utf8');
    expect(written).toContain('"schema":3');
    expect(written.split('"t":"lease"').length - 1).toBe(LEASES);
    expect(fs.existsSync(leaseTableDir(place.home))).toBe(false);
    const keys = deriveKeys(await loadMasterKey(path.join(place.home, 'master.key'), false));
    const before = readSnapshot(snapshotFile, keys.logKey, '').state;

    // This build: starts on it, serves the old tokens and secrets, and rewrote the layout.
    let daemon = await startIn(place);
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
    daemon = await startIn(place);
    try {
      expect((await tokenRead(place.socket, tokens.at(-1)!)).status).toBe(200);
    } finally {
      await daemon.stop();
    }
  }, 180_000);
});
