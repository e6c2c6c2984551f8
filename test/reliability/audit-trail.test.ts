import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../daemon/api';
import { collect } from '../helpers/cli';
import { cliScript, seed, tokenRead as read, type DaemonHandle } from '../helpers/daemon';
import { daemonPool } from '../helpers/pool';
import { auditBytes, auditFiles, dropLastLines, newestAuditFile } from './files';
import { toDotenv } from '../../daemon/cli/secret-formats';

const pool = daemonPool('bella-audit');

describe('the audit trail keeps its promises at any size', () => {
  it('1. one very large entry (1,500 secrets with 250-character keys) does not brick the restart', async () => {
    const { daemon } = await pool.start();
    const { project, environment } = await seed(daemon.client);
    const secrets = Object.fromEntries(
      Array.from({ length: 1500 }, (_, i) => [`K_${String(i).padStart(4, '0')}_${'X'.repeat(243)}`, 'v']),
    );
    expect(Object.keys(secrets)[0]).toHaveLength(250);
    const out = await daemon.client.call('importSecrets', { project, environment, dotenv: toDotenv(secrets) });
    expect(out.added).toHaveLength(1500);
    await daemon.stop();
    const next = await pool.restart(daemon);
    const imported = await next.client.call('listAudit', { event: 'SecretsImported', limit: 1 });
    expect(imported.entries[0]?.keys).toHaveLength(1500);
    expect((await next.client.call('verifyAudit', {})).ok).toBe(true);
  }, 60_000);

  it('2. 20,000 requests without a token grow the trail by at most 100 KB, and every one is counted', async () => {
    const { place, daemon } = await pool.start();
    await seed(daemon.client);
    const before = auditBytes(place.home);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
    let refused = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < 20_000) {
          next++;
          const res = await read(daemon.socket, null, { agent });
          if (res.status === 401) refused++;
        }
      }),
    );
    agent.destroy();
    expect(refused).toBe(20_000);
    await daemon.stop(); // writes out the open aggregation window
    const grown = auditBytes(place.home) - before;
    console.log(`refusal flood: 20,000 unauthenticated requests grew the audit trail by ${grown} bytes`);
    expect(grown).toBeLessThanOrEqual(100_000);
    const restarted = await pool.restart(daemon);
    const denied = await restarted.client.call('listAudit', { outcome: 'Denied', limit: 1000 });
    expect(denied.entries.reduce((n, e) => n + (e.count ?? 1), 0)).toBe(20_000);
  }, 120_000);

  it('2. a trail of many segments: lease filter newest first, cursor paging, time window, verify', async () => {
    const { place, daemon } = await pool.start({ env: { BELLA_AUDIT_SEGMENT_BYTES: String(32 * 1024) } });
    const { project, environment } = await seed(daemon.client);
    const issue = (reason: string) =>
      daemon.client.call('issueLease', { project, environment, scope: ['API_KEY'], reason, ttlSeconds: 3600 });
    const a = await issue('lease a');
    const b = await issue('lease b');
    for (let i = 0; i < 600; i++) await read(daemon.socket, i % 3 === 0 ? a.token : b.token);
    expect(auditFiles(place.home).length).toBeGreaterThan(5);

    const mine = await daemon.client.call('listAudit', { lease: a.lease.id, limit: 1000 });
    expect(mine.entries.every((e) => e.leaseId === a.lease.id)).toBe(true);
    expect(mine.entries.filter((e) => e.event === 'SecretsRead')).toHaveLength(200);
    expect(mine.entries.at(-1)?.event).toBe('LeaseIssued');
    const seqs = mine.entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => y - x));
    // Paging with the cursor visits exactly the same entries.
    const paged: AuditEntry[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await daemon.client.call('listAudit', { lease: a.lease.id, limit: 37, before });
      paged.push(...page.entries);
      if (page.nextCursor === null) break;
      before = page.nextCursor;
    }
    expect(paged.map((e) => e.seq)).toEqual(seqs);
    // A time window: nothing before the first entry, nothing from after the last.
    const first = mine.entries.at(-1)!;
    const window = await daemon.client.call('listAudit', { lease: a.lease.id, until: first.ts, limit: 10 });
    expect(window.entries).toEqual([]);
    expect((await daemon.client.call('verifyAudit', {})).ok).toBe(true);

    // A segment removed from the middle is found and named.
    await daemon.stop();
    const files = auditFiles(place.home);
    const middle = files[Math.floor(files.length / 2)]!;
    fs.rmSync(middle);
    const next = await pool.restart(daemon);
    const verify = await next.client.call('verifyAudit', {});
    expect(verify.ok).toBe(false);
    expect(verify.firstBroken?.reason).toMatch(/removed|does not continue/);
  }, 120_000);

  it('3. deleting the newest entries is detected: verify names what is missing, status says so', async () => {
    const { place, daemon } = await pool.start();
    const { project, environment } = await seed(daemon.client);
    const lease = await daemon.client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'x' });
    await daemon.client.call('revokeLease', { id: lease.lease.id });
    await daemon.stop();
    const dropped = dropLastLines(newestAuditFile(place.home), 2);
    expect(dropped.join('\n')).toContain('LeaseRevoked');
    const next = await pool.restart(daemon);
    const verify = await next.client.call('verifyAudit', {});
    expect(verify.ok).toBe(false);
    expect(verify.firstBroken?.reason).toMatch(/missing/);
    expect((await next.client.call('status', {})).problems.join(' ')).toMatch(/missing/);
    // The revocation itself stands: the state never followed the trail backwards.
    expect((await next.client.call('getLease', { id: lease.lease.id })).lease.status).toBe('revoked');
  }, 60_000);

  it('3. a trail file replaced under the running daemon is noticed: reads fail closed, status says so', async () => {
    const { place, daemon } = await pool.start();
    const { project, environment } = await seed(daemon.client);
    const lease = await daemon.client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'x' });
    expect((await read(daemon.socket, lease.token)).status).toBe(200);
    // What `sed -i` does: write a new file and rename it over the old one (a new inode).
    const file = newestAuditFile(place.home);
    fs.writeFileSync(`${file}.sed`, fs.readFileSync(file));
    fs.renameSync(`${file}.sed`, file);
    const res = await read(daemon.socket, lease.token);
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body).error.message).toMatch(/replaced/);
    expect((await daemon.client.call('status', {})).problems.join(' ')).toMatch(/replaced/);
    await daemon.stop();
    const next = await pool.restart(daemon);
    expect((await read(next.socket, lease.token)).status).toBe(200);
    expect((await next.client.call('verifyAudit', {})).ok).toBe(true);
  }, 60_000);

  it('13. a segment copied and renamed over, or edited in place, under a running daemon: verify, status and reads refuse, naming the file', async () => {
    const { place, daemon } = await pool.start();
    const bella = (d: DaemonHandle, ...args: string[]) =>
      collect(
        spawn(process.execPath, [cliScript, ...args], {
          env: { ...process.env, BELLA_HOME: d.home, BELLA_SOCKET: d.socket },
        }),
      );
    const { project, environment } = await seed(daemon.client);
    const lease = await daemon.client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'x' });
    expect((await read(daemon.socket, lease.token)).status).toBe(200);
    // Copy, then rename the copy over the original: what `cp` + `mv`, logrotate and `sed -i` do.
    const file = newestAuditFile(place.home);
    fs.copyFileSync(file, `${file}.copy`);
    fs.renameSync(`${file}.copy`, file);
    // Nothing was written since: the copy holds a whole chain, yet what the daemon writes next is unseen.
    const verify = await bella(daemon, 'audit', 'verify');
    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain(file);
    expect(verify.stderr).toMatch(/replaced by another file/);
    const status = await bella(daemon, 'daemon', 'status');
    expect(status.stdout).toMatch(/replaced by another file/);
    const refused = await read(daemon.socket, lease.token);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).error).toMatchObject({ code: 'unavailable' });
    expect(JSON.parse(refused.body).error.message).toContain(file);
    await daemon.stop();

    // The copy was whole: a restart accepts it. Then bytes appended in place (same inode) are noticed too.
    const next = await pool.restart(daemon);
    expect((await read(next.socket, lease.token)).status).toBe(200);
    fs.appendFileSync(newestAuditFile(place.home), 'forged\n');
    const edited = await read(next.socket, lease.token);
    expect(edited.status).toBe(503);
    expect(JSON.parse(edited.body).error.message).toMatch(/changed by another program/);
    expect((await bella(next, 'audit', 'verify')).code).toBe(1);
  }, 60_000);

  it('3. a whole last entry that lost only its newline is kept, not dropped', async () => {
    const { place, daemon } = await pool.start();
    const { project, environment } = await seed(daemon.client);
    const lease = await daemon.client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'x' });
    await daemon.kill9();
    const file = newestAuditFile(place.home);
    const bytes = fs.readFileSync(file);
    expect(bytes.at(-1)).toBe(0x0a);
    fs.writeFileSync(file, bytes.subarray(0, bytes.length - 1));
    const next = await pool.restart(daemon);
    const issued = await next.client.call('listAudit', { lease: lease.lease.id, event: 'LeaseIssued' });
    expect(issued.entries).toHaveLength(1);
    expect((await next.client.call('verifyAudit', {})).ok).toBe(true);
  }, 60_000);
});
