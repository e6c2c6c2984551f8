import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../daemon/api';
import {
  readLog,
  seed,
  startExpectingRefusal,
  startIn,
  tempPlace,
  tokenRead,
  type DaemonPlace,
} from '../helpers/daemon';
import { newestAuditFile } from '../reliability/files';

// At start the audit trail's newest segment is scanned (every keyed hash of its chain checked,
// every entry parsed and indexed) in a worker thread while the lease table is read, when both
// are large (docs/decisions.md, "Cold start, fourth round (cold4)"). BELLA_SCAN_WORKER_BYTES=0
// takes that path on a small data dir; these tests start real daemons both ways on copies of one.
const WORKER = { BELLA_SCAN_WORKER_BYTES: '0' };
const SAID = 'was checked in a worker thread while the lease table was read';

/** Every file under `dir` with its bytes (the daemon's pid lock and log aside). */
function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name !== 'daemon.pid') out.set(path.relative(dir, full), fs.readFileSync(full));
    }
  };
  walk(dir);
  return out;
}

describe('the audit trail scanned in a worker at start', () => {
  let template: DaemonPlace;
  let entries: AuditEntry[];
  const places: DaemonPlace[] = [];

  /** A fresh place holding a copy of the template's data dir. */
  function copy(): DaemonPlace {
    const place = tempPlace('bella-scanw');
    places.push(place);
    fs.cpSync(template.home, place.home, { recursive: true });
    return place;
  }

  beforeAll(async () => {
    // Commits (project, secrets, leases), then audited reads after the last commit: the entries
    // the start-up cross-check reads back from the segment.
    template = tempPlace('bella-scanw-src');
    const daemon = await startIn(template);
    const { project, environment } = await seed(daemon.client);
    const leases = [];
    for (let i = 0; i < 3; i++) {
      leases.push(
        await daemon.client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: `w${i}` }),
      );
    }
    for (const lease of leases) expect((await tokenRead(daemon.socket, lease.token)).status).toBe(200);
    entries = (await daemon.client.call('listAudit', { limit: 1000 })).entries;
    await daemon.stop();
  }, 60_000);
  afterAll(() => {
    for (const place of places) place.cleanup();
    template.cleanup();
  });

  it('serves the same trail as a scan in the daemon thread, and the chain continues from it', async () => {
    const place = copy();
    const daemon = await startIn(place, { env: WORKER });
    try {
      expect(readLog(place.logFile)).toContain(SAID);
      expect((await daemon.client.call('listAudit', { limit: 1000 })).entries).toEqual(entries);
      expect(entries.filter((e) => e.event === 'SecretsRead')).toHaveLength(3);
      expect((await daemon.client.call('verifyAudit', {})).ok).toBe(true);
      await daemon.client.call('issueLease', {
        project: 'app',
        environment: 'prod',
        scope: ['DB_URL'],
        reason: 'after',
      });
    } finally {
      await daemon.stop();
    }
    // Started again without the worker: the entries written after a worker's scan chain on.
    const again = await startIn(place);
    try {
      expect(readLog(place.logFile).split(SAID)).toHaveLength(2);
      const now = (await again.client.call('listAudit', { limit: 1000 })).entries;
      expect(now.slice(1)).toEqual(entries);
      expect(now[0]).toMatchObject({ event: 'LeaseIssued', reason: 'after' });
      expect((await again.client.call('verifyAudit', {})).ok).toBe(true);
    } finally {
      await again.stop();
    }
  }, 60_000);

  it('refuses an edited entry with the same words as a scan in the daemon thread, and changes nothing', async () => {
    const refusals: string[] = [];
    for (const env of [WORKER, {}]) {
      const place = copy();
      const file = newestAuditFile(place.home);
      const text = fs.readFileSync(file, 'utf8');
      fs.writeFileSync(file, text.replace('"reason":"w1"', '"reason":"w7"'));
      const before = filesOf(place.home);
      const result = await startExpectingRefusal({ home: place.home, socket: place.socket, env });
      expect(result.served).toBe(false);
      expect(result.code).toBe(1);
      expect(result.output).toMatch(/is damaged at byte \d+: a record does not match its keyed hash/);
      expect(after(place.home, before)).toEqual([]);
      refusals.push(result.output.replaceAll(place.home, 'HOME'));
    }
    expect(refusals[0]).toBe(refusals[1]);
  }, 60_000);

  it('refuses a damaged snapshot while the worker scans, with the snapshot named, and changes nothing', async () => {
    const place = copy();
    const file = path.join(place.home, 'state.snapshot');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const before = filesOf(place.home);
    const result = await startExpectingRefusal({ home: place.home, socket: place.socket, env: WORKER });
    expect(result.served).toBe(false);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/state\.snapshot is damaged at byte \d+/);
    // One line, the refusal: no worker error or unhandled rejection after it.
    expect(result.output.trim().split('\n')).toHaveLength(1);
    expect(after(place.home, before)).toEqual([]);
  }, 60_000);
});

/** The files of `dir` that differ from `before` (added, removed or changed). */
function after(dir: string, before: Map<string, Buffer>): string[] {
  const now = filesOf(dir);
  const names = new Set([...before.keys(), ...now.keys()]);
  return [...names].filter((n) => !before.get(n)?.equals(now.get(n) ?? Buffer.alloc(0)) || !now.has(n));
}
