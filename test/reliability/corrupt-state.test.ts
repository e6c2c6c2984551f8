import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../daemon/store';
import { frame } from '../../daemon/store/record-frame';
import { seed, startExpectingRefusal, startIn, tempPlace, type DaemonPlace } from '../helpers/daemon';
import { filesOf } from './files';

function expectUntouched(before: Map<string, Buffer>, dir: string): void {
  const after = filesOf(dir);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [file, bytes] of before) expect(after.get(file)?.equals(bytes), `${file} was changed`).toBe(true);
}

/** The snapshot's lines (frames), to damage one of them. */
function snapshotLines(home: string): { file: string; lines: string[] } {
  const file = path.join(home, 'state.snapshot');
  return { file, lines: fs.readFileSync(file, 'utf8').split('\n') };
}

/** A frame of a CRC-checked file holding `payload`, with a correct length and checksum. */
function reframe(payload: string): string {
  return frame({ check: 'crc32' }, '', payload).bytes.toString('utf8').replace(/\n$/, '');
}

describe('corrupt or foreign state: the daemon refuses to start and overwrites nothing', () => {
  let template: DaemonPlace;
  let backupFile: string;

  beforeAll(async () => {
    // A data dir with real data, stopped cleanly, with a backup taken by the store's own code.
    template = tempPlace('bella-corrupt-src');
    const daemon = await startIn(template);
    const { project, environment } = await seed(daemon.client);
    await daemon.client.call('issueLease', { project, environment, scope: ['API_KEY'], reason: 'corrupt test' });
    await daemon.stop();
    const store = await Store.open(template.home);
    backupFile = await store.backup();
    await store.close();
  });
  afterAll(() => template.cleanup());

  const cases: Array<{
    name: string;
    damage: (home: string) => void;
    says: RegExp[];
    recoverWithBackup: boolean;
  }> = [
    {
      name: 'a truncated snapshot',
      damage: (home) => {
        const file = path.join(home, 'state.snapshot');
        const bytes = fs.readFileSync(file);
        fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
      },
      says: [/state\.snapshot is damaged at byte \d+/, /backups\/state-.*\.snapshot/],
      recoverWithBackup: true,
    },
    {
      name: 'a snapshot with one byte of a record changed',
      damage: (home) => {
        const { file, lines } = snapshotLines(home);
        const i = lines.findIndex((l) => l.includes('"t":"lease"'));
        lines[i] = lines[i]!.replace('"status":"active"', '"status":"activf"');
        fs.writeFileSync(file, lines.join('\n'));
      },
      says: [/state\.snapshot is damaged at byte \d+/, /checksum/, /backups\/state-.*\.snapshot/],
      recoverWithBackup: true,
    },
    {
      name: 'a snapshot whose record was rewritten with a valid checksum (a lease record changed)',
      damage: (home) => {
        const { file, lines } = snapshotLines(home);
        const i = lines.findIndex((l) => l.includes('"t":"lease"'));
        const payload = lines[i]!.slice(lines[i]!.indexOf('{')).replace('"renewals":0', '"renewals":9');
        lines[i] = reframe(payload);
        fs.writeFileSync(file, lines.join('\n'));
      },
      says: [/state\.snapshot is damaged at byte \d+/, /seal/, /edited/],
      recoverWithBackup: true,
    },
    {
      name: 'a missing master key',
      damage: (home) => fs.rmSync(path.join(home, 'master.key')),
      says: [/master\.key/, /missing/, /restore/],
      recoverWithBackup: false,
    },
    {
      name: 'a snapshot from a newer schema version',
      damage: (home) => {
        const { file, lines } = snapshotLines(home);
        const header = JSON.parse(lines[0]!.slice(lines[0]!.indexOf('{'))) as Record<string, unknown>;
        lines[0] = reframe(JSON.stringify({ ...header, schema: 999 }));
        fs.writeFileSync(file, lines.join('\n'));
      },
      says: [/state\.snapshot/, /newer/, /upgrade/],
      recoverWithBackup: false,
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}, names the file and what to do, changes no byte`, async () => {
      const place = tempPlace('bella-corrupt');
      try {
        fs.cpSync(template.home, place.home, { recursive: true });
        c.damage(place.home);
        const before = filesOf(place.home);
        const run = await startExpectingRefusal({ home: place.home, socket: place.socket });
        expect(run.served).toBe(false);
        expect(run.code).toBe(1);
        for (const pattern of c.says) expect(run.output).toMatch(pattern);
        // One line for a user's situation, never a stack trace.
        expect(run.output).not.toMatch(/^\s+at /m);
        expectUntouched(before, place.home);
        expect(fs.existsSync(path.join(place.home, 'master.key'))).toBe(before.has('master.key'));

        if (c.recoverWithBackup) {
          // Following the message's own advice brings the data back.
          const named = /(\/\S+backups\/state-[^\s;:,]+\.snapshot)/.exec(run.output)?.[1];
          expect(named).toBe(path.join(place.home, 'backups', path.basename(backupFile)));
          fs.copyFileSync(named!, path.join(place.home, 'state.snapshot'));
          const daemon = await startIn(place);
          try {
            const leases = await daemon.client.call('listLeases', {});
            expect(leases.leases).toHaveLength(1);
            expect(
              (await daemon.client.call('getSecret', { project: 'app', environment: 'prod', key: 'API_KEY' })).secret
                .value,
            ).toBe('k-1');
          } finally {
            await daemon.stop();
          }
        }
      } finally {
        place.cleanup();
      }
    }, 60_000);
  }

  it('restoring an older backup on purpose needs --accept-rollback, and the trail says so', async () => {
    const place = tempPlace('bella-rollback');
    try {
      fs.cpSync(template.home, place.home, { recursive: true });
      // A change after the backup, then the backup copied back over the state.
      let daemon = await startIn(place);
      await daemon.client.call('setSecret', { project: 'app', environment: 'prod', key: 'AFTER_BACKUP', value: 'x' });
      await daemon.stop();
      fs.copyFileSync(backupFile.replace(template.home, place.home), path.join(place.home, 'state.snapshot'));
      fs.rmSync(path.join(place.home, 'state.journal'));
      const before = filesOf(place.home);
      const refused = await startExpectingRefusal({ home: place.home, socket: place.socket });
      expect(refused.served).toBe(false);
      expect(refused.output).toMatch(/audit trail records commit \d+.*--accept-rollback/);
      expectUntouched(before, place.home);

      daemon = await startIn(place, { args: ['--accept-rollback'] });
      try {
        const keys = (await daemon.client.call('listSecrets', { project: 'app', environment: 'prod' })).secrets;
        expect(keys.map((s) => s.key)).not.toContain('AFTER_BACKUP');
        const restored = await daemon.client.call('listAudit', { event: 'StateRestored' });
        expect(restored.entries).toHaveLength(1);
        expect((await daemon.client.call('verifyAudit', {})).ok).toBe(true);
        await daemon.client.call('setSecret', { project: 'app', environment: 'prod', key: 'NEXT', value: 'y' });
      } finally {
        await daemon.stop();
      }
      // Accepted once: the next start needs no flag.
      daemon = await startIn(place);
      expect(
        (await daemon.client.call('getSecret', { project: 'app', environment: 'prod', key: 'NEXT' })).secret.value,
      ).toBe('y');
      await daemon.stop();
    } finally {
      place.cleanup();
    }
  }, 60_000);
});
