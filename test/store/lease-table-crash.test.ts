import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../daemon/store';
import { leaseTableDir } from '../../daemon/store/lease-table';
import type { StoredLease } from '../../daemon/store/schema';
import { sleep } from '../helpers/daemon';

const COUNT = 5_000;
const ROUNDS = Number(process.env.BELLA_CRASH_ROUNDS ?? 9);
const writer = path.join(path.dirname(new URL(import.meta.url).pathname), 'lease-table-writer.ts');

function lease(i: number): StoredLease {
  return {
    id: i.toString(36).padStart(16, '0'),
    project: 'app',
    environment: 'prod',
    scope: ['API_KEY'],
    reason: `crash ${i}`,
    issuedAt: 1_700_000_000_000,
    expiresAt: 1_900_000_000_000,
    ttlSeconds: 600,
    status: 'active',
    renewals: 0,
    renewedAt: null,
    lastUsedAt: null,
    endedAt: null,
    endReason: null,
    tokenHash: 'h'.repeat(43),
    epoch: 1,
    warnedFor: null,
    uses: 0,
  };
}

/**
 * kill -9 while rounds of lease changes commit and compact into the lease table: every acknowledged
 * round survives, the data dir opens without refusal, and no lease is lost or doubled.
 */
describe('crash suite: kill -9 while the lease table is rewritten', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-table-crash-'));
  afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

  it(`keeps every acknowledged change over ${ROUNDS} kills`, async () => {
    const store = await Store.open(home);
    await store.transact((state, touched) => {
      for (let i = 0; i < COUNT; i++) {
        state.leases.set(lease(i).id, lease(i));
        touched.lease(lease(i).id);
      }
      return { result: null, audit: [] };
    });
    await store.close();
    let compacted = 0;
    let before = fs.readdirSync(leaseTableDir(home)).join();
    for (let kill = 0; kill < ROUNDS; kill++) {
      const child = spawn(process.execPath, ['--import', 'tsx', writer, home, String(COUNT)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let acked = 0;
      let acks = 0;
      let errors = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        for (const m of d.matchAll(/acked (\d+)/g)) {
          acked = Math.max(acked, Number(m[1]));
          acks++;
        }
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => (errors += d));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      // Kills in turn: after a number of commits, wherever that falls; the moment a new table file
      // is renamed into place (before state.snapshot names it); the moment an old one is removed
      // (after state.snapshot stopped naming it, or the table would be refused as incomplete).
      const mode = kill % 3;
      const deadline = Date.now() + 60_000;
      const listed = () => fs.readdirSync(leaseTableDir(home)).filter((n) => n.endsWith('.leases'));
      let known = new Set(listed());
      while (Date.now() < deadline && child.exitCode === null) {
        if (mode === 0) {
          if (acks >= 6 + kill * 3) break;
          await sleep(10 + ((kill * 37) % 50));
          continue;
        }
        const now = listed();
        const changed = mode === 1 ? now.some((n) => !known.has(n)) : [...known].some((n) => !now.includes(n));
        if (acks >= 3 && changed) break;
        known = new Set(now);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const lastAcked = acked;
      child.kill('SIGKILL');
      await exited;
      expect(errors).not.toMatch(/Error/);
      expect(acks, 'the writer committed rounds').toBeGreaterThanOrEqual(3);
      // The writer rewrote the table itself (its compactions), so kills fall among those writes.
      if (fs.readdirSync(leaseTableDir(home)).join() !== before) compacted++;

      const reopened = await Store.open(home);
      try {
        const leases = [...reopened.state.leases.values()];
        expect(leases).toHaveLength(COUNT);
        // For each class of leases, the newest acknowledged round that changed it is on disk (or a later one).
        for (const [i, l] of leases.entries()) {
          let newest = lastAcked;
          while (newest > 0 && newest % 10 !== i % 10) newest--;
          expect(l.uses).toBeGreaterThanOrEqual(newest);
          expect(l.uses % 10 === i % 10 || l.uses === 0).toBe(true);
        }
      } finally {
        await reopened.close();
      }
      before = fs.readdirSync(leaseTableDir(home)).join();
    }
    expect(compacted).toBeGreaterThanOrEqual(ROUNDS / 2);
  }, 300_000);
});
