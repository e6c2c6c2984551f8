import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/cli';
import { tokenRead } from '../helpers/daemon';
import { daemonPool } from '../helpers/pool';

// The daemon's maintenance drops the trash after 30 days and versions past their keep time, at
// start-up (and hourly). The daemon runs under libfaketime (Debian's `faketime`): its wall clock
// steps forward by days between restarts, as it would for a daemon stopped over a holiday.

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const pool = daemonPool('bella-keep');
const where = { project: 'app', environment: 'prod' };

describe('history and trash keep times in a real daemon', () => {
  it('a secret deleted 31 days ago is destroyed at start-up with its history; versions older than 90 days go down to 20', async () => {
    if (!fs.existsSync(LIBFAKETIME)) {
      throw new Error(`${LIBFAKETIME} is missing: install Debian's faketime package (.ci/run does)`);
    }
    const place = pool.place();
    const offsetFile = path.join(place.root, 'faketime');
    fs.writeFileSync(offsetFile, '+0\n');
    const opts = {
      env: {
        LD_PRELOAD: LIBFAKETIME,
        FAKETIME_TIMESTAMP_FILE: offsetFile,
        FAKETIME_NO_CACHE: '1',
        FAKETIME_DONT_FAKE_MONOTONIC: '1',
      },
    };
    let { daemon } = await pool.start(opts, place);
    let client = daemon.client;
    await client.call('createProject', { slug: 'app', name: 'App' });
    await client.call('createEnvironment', { ...where, slug: 'prod', name: 'Prod' });
    for (let i = 1; i <= 25; i++) await client.call('setSecret', { ...where, key: 'BUSY', value: `v${i}` });
    await client.call('setSecret', { ...where, key: 'GONE', value: 'old' });
    await client.call('setSecret', { ...where, key: 'GONE', value: 'older-still' });
    const lease = await client.call('issueLease', { ...where, scope: ['GONE', 'BUSY'], reason: 'keep time' });
    await client.call('deleteSecret', { ...where, key: 'GONE' });
    const missing = await tokenRead(daemon.socket, lease.token, { keys: 'GONE' });
    expect([missing.status, JSON.parse(missing.body).error.code]).toEqual([404, 'not_found']);

    // The first start's jobs run START_DELAY_MS after it listens (none if stopped before then).
    await waitFor(
      () => fs.readFileSync(place.logFile, 'utf8').match(/drop expired history: 0 secrets purged/g)?.length === 1,
      'the first start-up job',
    );

    // 29 days on: still in the trash.
    fs.writeFileSync(offsetFile, '+29d\n');
    await daemon.stop();
    daemon = await pool.restart(daemon, opts);
    client = daemon.client;
    await waitFor(
      () => fs.readFileSync(place.logFile, 'utf8').match(/drop expired history: 0 secrets purged/g)?.length === 2,
      'the start-up job',
    );
    expect((await client.call('listTrash', where)).trash.map((t) => t.key)).toEqual(['GONE']);

    // 31 days on: destroyed with its history, by the daemon, audited.
    fs.writeFileSync(offsetFile, '+31d\n');
    await daemon.stop();
    daemon = await pool.restart(daemon, opts);
    client = daemon.client;
    // The start-up job's commit: the trail holds its entry once it is on disk (the state in memory
    // changes a moment before, so the trash alone is not the sign that it committed).
    await waitFor(
      async () => (await client.call('listAudit', { event: 'SecretPurged' })).entries.length > 0,
      'the purge to be audited',
    );
    const purged = await client.call('listAudit', { event: 'SecretPurged' });
    expect(purged.entries).toMatchObject([{ actor: 'daemon', keys: ['GONE'] }]);
    expect((await client.call('listTrash', where)).trash).toEqual([]);
    const history = await client.call('secretHistory', { ...where, key: 'GONE' }).catch((e: Error) => e);
    expect((history as Error).message).toContain('no secret GONE in app/prod');
    // BUSY's 24 earlier versions were replaced 31 days ago: all kept.
    expect((await client.call('secretHistory', { ...where, key: 'BUSY' })).versions).toHaveLength(25);

    // 92 days on: versions older than 90 days go, down to the newest 20.
    fs.writeFileSync(offsetFile, '+92d\n');
    await daemon.stop();
    daemon = await pool.restart(daemon, opts);
    client = daemon.client;
    await waitFor(
      async () => (await client.call('secretHistory', { ...where, key: 'BUSY' })).versions.length === 21,
      'old versions to be dropped',
    );
    const busy = await client.call('secretHistory', { ...where, key: 'BUSY', reveal: true });
    expect(busy.versions[0]).toMatchObject({ version: 25, current: true, value: 'v25' });
    expect(busy.versions.at(-1)).toMatchObject({ version: 5, value: 'v5' });
  }, 90_000);
});
