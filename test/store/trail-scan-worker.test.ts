import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBellaError, type AuditEntry } from '../../daemon/api';
import type { AuditInput } from '../../daemon/store/audit/entry';
import { scanInWorker } from '../../daemon/store/audit/scan-in-worker';
import { scanSegment } from '../../daemon/store/audit/segment-scan';
import { AuditTrail } from '../../daemon/store/audit/trail';
import { distDir, ensureBuilt } from '../helpers/build';
import {
  readLog,
  seed,
  sleep,
  startExpectingRefusal,
  startIn,
  tempPlace,
  tokenRead,
  type DaemonPlace,
} from '../helpers/daemon';
import { filesOf, newestAuditFile } from '../reliability/files';

// At start the audit trail's newest segment is scanned (every keyed hash of its chain checked,
// every entry parsed and indexed) in a worker thread while the lease table is read, when both
// are large (docs/decisions.md, "Cold start, fourth round (cold4)"). BELLA_SCAN_WORKER_BYTES=0
// takes that path on a small data dir; these tests start real daemons both ways on copies of one.
const WORKER = { BELLA_SCAN_WORKER_BYTES: '0' };
const SAID = 'was checked in a worker thread while the lease table was read';

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
      // Without the clean stop's checkpoint, a start in either thread scans the segment whole.
      fs.rmSync(path.join(place.home, 'audit', 'active.ckpt'));
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

describe('scanInWorker: the built worker against the scan in this thread', () => {
  const key = Buffer.alloc(32, 7);
  const format = { check: 'hmac' as const, key };
  let root: string;
  let file: string;

  beforeAll(async () => {
    ensureBuilt();
    // One segment of 300 entries: commits' entries (tagged) then reads after the last commit.
    root = tempPlace('bella-scanw-unit').root;
    const dir = path.join(root, 'audit');
    const trail = await AuditTrail.open(AuditTrail.read(dir, format, 'x'), format, 'x');
    for (let i = 0; i < 300; i += 10) {
      const inputs = Array.from({ length: 10 }, (_, k): AuditInput => ({
        event: i < 200 ? 'LeaseIssued' : 'SecretsRead',
        outcome: 'Success',
        actor: 'owner',
        project: 'p',
        environment: `e${k % 3}`,
        leaseId: `lease${(i + k) % 17}`,
      }));
      await trail.write(trail.prepare(inputs, Date.UTC(2026, 11, 1) + i, i < 200 ? i / 10 + 1 : undefined));
    }
    file = trail.segmentFiles()[0]!;
    trail.close();
  }, 120_000);
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  const script = () => path.join(distDir, 'audit-scan.cjs');

  it('gives what the scan in this thread gives: head, end, index, the entries after the last commit', async () => {
    const logged: string[] = [];
    const pending = scanInWorker(file, 1, key, 'x', (m) => logged.push(m), script())!;
    const scanned = (await pending.result(200))!;
    // The worker ends on its own once it answered; its exit is no failure to log.
    await sleep(500);
    const inline = scanSegment(file, 1, format, 'x', 200);
    expect(scanned.head).toEqual(inline.head);
    expect(scanned.base).toBe(inline.base);
    expect(scanned.scan).toEqual(inline.scan);
    expect(scanned.entries).toEqual(inline.entries);
    expect(scanned.entries.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 201 + i));
    expect(scanned.index.count).toBe(300);
    expect(scanned.index.toData().data).toEqual(inline.index.toData().data);
    expect(logged).toEqual([`audit: ${file} was checked in a worker thread while the lease table was read`]);
  });

  it('rejects with the same refusal as the scan in this thread', async () => {
    const damaged = path.join(root, 'damaged.log');
    fs.writeFileSync(damaged, fs.readFileSync(file, 'utf8').replace('"leaseId":"lease3"', '"leaseId":"lease4"'));
    let inline: unknown;
    try {
      scanSegment(damaged, 1, format, 'x', 0);
    } catch (err) {
      inline = err;
    }
    expect(isBellaError(inline)).toBe(true);
    const pending = scanInWorker(damaged, 1, key, 'x', () => undefined, script())!;
    const refused = await pending.result(0).catch((err: unknown) => err);
    expect(isBellaError(refused)).toBe(true);
    expect(refused).toMatchObject({
      code: (inline as { code: string }).code,
      message: (inline as Error).message,
      details: (inline as { details: unknown }).details,
    });
  });

  it('answers null (scanned in this thread instead) when the worker itself dies, and says so', async () => {
    const dying = path.join(root, 'dying.cjs');
    fs.writeFileSync(dying, 'process.exit(3);\n');
    const logged: string[] = [];
    const pending = scanInWorker(file, 1, key, 'x', (m) => logged.push(m), dying)!;
    expect(await pending.result(0)).toBeNull();
    expect(logged).toEqual([
      `audit: the start-up scan worker failed (it exited with code 3 before it answered); ${file} is scanned in the daemon's thread`,
    ]);
  });
});
