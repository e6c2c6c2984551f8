import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seed, startExpectingRefusal, tokenRead as read, type DaemonHandle, type DaemonPlace } from '../helpers/daemon';
import { daemonPool } from '../helpers/pool';
import { dropLastLines, journalFile } from './files';
import { toDotenv } from '../../daemon/cli/secret-formats';

const pool = daemonPool('bella-journal');

/**
 * A daemon killed with -9 right after an acknowledged revoke, so the revoke is the journal's
 * last commit (a clean stop would fold the journal into a snapshot).
 */
async function revokedThenKilled(): Promise<{ place: DaemonPlace; daemon: DaemonHandle; token: string }> {
  const { place, daemon } = await pool.start();
  const { project, environment } = await seed(daemon.client);
  const lease = await daemon.client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'x' });
  expect((await read(daemon.socket, lease.token)).status).toBe(200);
  await daemon.client.call('revokeLease', { id: lease.lease.id });
  expect((await read(daemon.socket, lease.token)).status).toBe(401);
  await daemon.kill9();
  expect(fs.readFileSync(journalFile(place.home), 'utf8')).toContain('"status":"revoked"');
  return { place, daemon, token: lease.token };
}

async function expectRefusedUntouched(place: DaemonPlace, says: RegExp): Promise<void> {
  const before = fs.readFileSync(journalFile(place.home));
  const run = await startExpectingRefusal({ home: place.home, socket: place.socket });
  expect(run.served).toBe(false);
  expect(run.code).toBe(1);
  expect(run.output).toMatch(says);
  expect(run.output).not.toMatch(/^\s+at /m);
  expect(fs.readFileSync(journalFile(place.home)).equals(before)).toBe(true);
}

describe('the journal is never trusted blindly', () => {
  it('4. a last commit that lost only its final newline is kept: the revoked token stays refused', async () => {
    const { place, daemon, token } = await revokedThenKilled();
    const file = journalFile(place.home);
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 1));
    const next = await pool.restart(daemon);
    expect((await read(next.socket, token)).status).toBe(401);
  }, 60_000);

  it('4. cutting the last commit (an acknowledged revoke) refuses to start instead of reviving the token', async () => {
    const { place } = await revokedThenKilled();
    const dropped = dropLastLines(journalFile(place.home), 1);
    expect(dropped[0]).toContain('"status":"revoked"');
    await expectRefusedUntouched(place, /state\.journal .*audit trail records commit \d+/);
  }, 60_000);

  it('4. a journal cut to 50 bytes refuses to start and keeps the file as it is', async () => {
    const { place } = await revokedThenKilled();
    const file = journalFile(place.home);
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 50));
    await expectRefusedUntouched(place, /state\.journal/);
  }, 60_000);

  it('4. a record edited from "revoked" to "rewoked" refuses to start, naming the file and offset', async () => {
    const { place } = await revokedThenKilled();
    const file = journalFile(place.home);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"status":"revoked"', '"status":"rewoked"'));
    await expectRefusedUntouched(place, /state\.journal is damaged at byte \d+/);
  }, 60_000);

  it('11. a single-secret write to a large project journals that secret, not the project', async () => {
    const { place, daemon } = await pool.start();
    const { project, environment } = await seed(daemon.client);
    const secrets = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`BIG_${i}`, 'v'.repeat(300)]));
    await daemon.client.call('importSecrets', { project, environment, dotenv: toDotenv(secrets) });
    const before = fs.statSync(journalFile(place.home)).size;
    await daemon.client.call('setSecret', { project, environment, key: 'ONE_MORE', value: 'small' });
    const grown = fs.statSync(journalFile(place.home)).size - before;
    console.log(`one secret written to a 500-secret environment grew the journal by ${grown} bytes`);
    expect(grown).toBeLessThan(4096);
  }, 60_000);
});
