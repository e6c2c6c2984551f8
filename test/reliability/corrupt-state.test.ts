import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../daemon/store';
import { seed, startExpectingRefusal, startIn, tempPlace, type DaemonPlace } from '../helpers/daemon';

/** Every file under `dir` with its bytes (the daemon's pid lock aside). */
function snapshot(dir: string): Map<string, Buffer> {
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

function expectUntouched(before: Map<string, Buffer>, dir: string): void {
  const after = snapshot(dir);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [file, bytes] of before) expect(after.get(file)?.equals(bytes), `${file} was changed`).toBe(true);
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
      name: 'a truncated state file',
      damage: (home) => {
        const file = path.join(home, 'state.json');
        const text = fs.readFileSync(file);
        fs.writeFileSync(file, text.subarray(0, Math.floor(text.length / 2)));
      },
      says: [/state\.json/, /damaged|does not parse/, /backup/, /backups\/state-.*\.json/],
      recoverWithBackup: true,
    },
    {
      name: 'an edited state file that no longer parses',
      damage: (home) => {
        const file = path.join(home, 'state.json');
        fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"projects":{', '"projects":{,'));
      },
      says: [/state\.json/, /backup/, /backups\/state-.*\.json/],
      recoverWithBackup: true,
    },
    {
      name: 'an edited state file missing its projects',
      damage: (home) => {
        const file = path.join(home, 'state.json');
        const state = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
        delete state.projects;
        fs.writeFileSync(file, JSON.stringify(state));
      },
      says: [/state\.json/, /backup/, /backups\/state-.*\.json/],
      recoverWithBackup: true,
    },
    {
      name: 'a missing master key',
      damage: (home) => fs.rmSync(path.join(home, 'master.key')),
      says: [/master\.key/, /missing/, /restore/],
      recoverWithBackup: false,
    },
    {
      name: 'a state file from a newer schema version',
      damage: (home) => {
        const file = path.join(home, 'state.json');
        const state = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
        state.version = 999;
        fs.writeFileSync(file, JSON.stringify(state));
      },
      says: [/state\.json/, /newer/, /upgrade/],
      recoverWithBackup: false,
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}, names the file and what to do, changes no byte`, async () => {
      const place = tempPlace('bella-corrupt');
      try {
        fs.cpSync(template.home, place.home, { recursive: true });
        c.damage(place.home);
        const before = snapshot(place.home);
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
          const named = /(\/\S+backups\/state-[^\s;:,]+\.json)/.exec(run.output)?.[1];
          expect(named).toBe(path.join(place.home, 'backups', path.basename(backupFile)));
          fs.copyFileSync(named!, path.join(place.home, 'state.json'));
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
});
