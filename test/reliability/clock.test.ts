import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { seed, sleep, tokenRead as read, type DaemonHandle, type StartOptions } from '../helpers/daemon';
import { waitFor } from '../helpers/cli';
import { daemonPool } from '../helpers/pool';

/**
 * The daemon runs under libfaketime (Debian's `faketime`), which makes the process's wall clock
 * follow an offset read from a file at every call while its monotonic clock keeps running: a real
 * clock step, as an NTP correction or an owner setting the time would make, of this process only.
 */
const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

const pool = daemonPool('bella-clock');

async function fakedDaemon(): Promise<{
  daemon: DaemonHandle;
  step: (offset: string) => void;
  opts: Partial<StartOptions>;
}> {
  if (!fs.existsSync(LIBFAKETIME)) {
    throw new Error(`${LIBFAKETIME} is missing: install Debian's faketime package (.ci/run does)`);
  }
  const place = pool.place();
  const offsetFile = path.join(place.root, 'faketime');
  fs.writeFileSync(offsetFile, '+0\n');
  const opts: Partial<StartOptions> = {
    env: {
      LD_PRELOAD: LIBFAKETIME,
      FAKETIME_TIMESTAMP_FILE: offsetFile,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    },
  };
  const { daemon } = await pool.start(opts, place);
  return { daemon, step: (offset) => fs.writeFileSync(offsetFile, `${offset}\n`), opts };
}

describe('expiry is final and never revived by the clock', () => {
  it('6. an expired lease stays refused after the wall clock steps back an hour, also across a restart', async () => {
    const { daemon, step, opts } = await fakedDaemon();
    const { project, environment } = await seed(daemon.client);
    const lease = await daemon.client.call('issueLease', {
      project,
      environment,
      scope: ['API_KEY'],
      reason: 'short',
      ttlSeconds: 2,
    });
    expect((await read(daemon.socket, lease.token)).status).toBe(200);
    // Wait for the record itself: the status reads `expired` from the expiry instant on (computed
    // from the clock), a moment before the timer commits the expiry and its LeaseExpired entry.
    const expired = await waitFor(
      async () => {
        const found = await daemon.client.call('listAudit', { lease: lease.lease.id, event: 'LeaseExpired' });
        return found.entries.length ? found : null;
      },
      'the LeaseExpired entry',
      10_000,
    );
    expect(expired.entries).toHaveLength(1);
    expect((await daemon.client.call('getLease', { id: lease.lease.id })).lease.status).toBe('expired');

    step('-3600');
    const res = await read(daemon.socket, lease.token);
    expect([res.status, JSON.parse(res.body).error.code]).toEqual([401, 'token_expired']);

    await daemon.kill9();
    const next = await pool.restart(daemon, opts);
    const after = await read(next.socket, lease.token);
    expect([after.status, JSON.parse(after.body).error.code]).toEqual([401, 'token_expired']);
  }, 60_000);

  it("6. a backward step does not move a lease's expiry: it ends on time by the monotonic clock", async () => {
    const { daemon, step } = await fakedDaemon();
    const { project, environment } = await seed(daemon.client);
    const lease = await daemon.client.call('issueLease', {
      project,
      environment,
      scope: ['API_KEY'],
      reason: 'short',
      ttlSeconds: 3,
    });
    step('-3600');
    expect((await read(daemon.socket, lease.token)).status).toBe(200);
    // By the faked wall clock the lease has an hour left; by real elapsed time it has expired.
    await sleep(3500);
    const res = await read(daemon.socket, lease.token);
    expect([res.status, JSON.parse(res.body).error.code]).toEqual([401, 'token_expired']);
    expect((await daemon.client.call('getLease', { id: lease.lease.id })).lease.status).toBe('expired');
  }, 60_000);
});
