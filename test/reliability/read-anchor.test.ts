import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { seed, tokenRead as read, type DaemonHandle } from '../helpers/daemon';
import { daemonPool } from '../helpers/pool';
import { auditFiles } from './files';

// Reads are answered once their own entries are durable in the trail: not held by the anchor's
// journal record written beside them once a second, nor by the segment rotation their group
// triggers. Whatever was answered must survive a kill -9 taken in the middle of that.

const pool = daemonPool('bella-read-anchor');

/** Every SecretsRead entry in the trail, paged newest first. */
async function countReads(daemon: DaemonHandle): Promise<number> {
  let count = 0;
  let before: number | undefined;
  for (;;) {
    const page = await daemon.client.call('listAudit', { event: 'SecretsRead', limit: 1000, before });
    count += page.entries.length;
    if (page.nextCursor === null) return count;
    before = page.nextCursor;
  }
}

const journalRecords = (home: string) =>
  fs.readFileSync(path.join(home, 'state.journal'), 'utf8').trim().split('\n').length;

describe('reads beside anchors and rotations', () => {
  it('every answered read is in the trail after a kill -9 taken while anchors and rotations ran under reads', async () => {
    const { place, daemon } = await pool.start({ env: { BELLA_AUDIT_SEGMENT_BYTES: String(32 * 1024) } });
    const { project, environment } = await seed(daemon.client);
    const { token } = await daemon.client.call('issueLease', {
      project,
      environment,
      scope: ['API_KEY', 'DB_URL'],
      reason: 'reads beside anchors',
      ttlSeconds: 3600,
    });
    const journalBefore = journalRecords(place.home);
    const segmentsBefore = auditFiles(place.home).length;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    let answered = 0;
    let stop = false;
    const readers = Array.from({ length: 16 }, async () => {
      while (!stop) {
        const res = await read(daemon.socket, token, { agent }).catch(() => null);
        if (res?.status === 200) answered++;
      }
    });
    // Until the reads alone have committed three anchors (nothing else changes state) and rotated
    // the trail three times: the kill then lands among groups of every kind.
    while (journalRecords(place.home) < journalBefore + 3 || auditFiles(place.home).length < segmentsBefore + 3) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const anchors = fs
      .readFileSync(path.join(place.home, 'state.journal'), 'utf8')
      .trim()
      .split('\n')
      .slice(journalBefore);
    // An anchor written beside reads holds no entries: the reads' entries went to the trail alone.
    expect(anchors.every((line) => line.includes('"entries":[]'))).toBe(true);
    await daemon.kill9();
    stop = true;
    await Promise.all(readers);
    agent.destroy();
    expect(answered).toBeGreaterThan(0);

    const next = await pool.restart(daemon, { env: { BELLA_AUDIT_SEGMENT_BYTES: String(32 * 1024) } });
    // Each answered read has its entry (reads cut off by the kill may have one too).
    expect(await countReads(next)).toBeGreaterThanOrEqual(answered);
    expect((await next.client.call('verifyAudit', {})).ok).toBe(true);
    expect((await next.client.call('status', {})).problems).toEqual([]);
  }, 120_000);
});
