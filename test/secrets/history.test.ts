import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BellaSandbox, filesUnder, oneErrorLine, waitFor } from '../helpers/cli';
import { issueToken } from '../cli/fixture';

// Secret history and trash through the real CLI against a real daemon: versions kept on every
// change, rollback, delete to the trash, restore, purge; values read back as the owner and
// through a lease's token.

interface Version {
  version: number;
  at: string;
  change: string;
  from?: number;
  current: boolean;
  endedAt: string | null;
  endedBy: string | null;
  value?: string;
}
interface History {
  key: string;
  inTrash: boolean;
  versions: Version[];
}
interface Trashed {
  key: string;
  version: number;
  deletedAt: string;
  purgeAt: string;
}
interface AuditJson {
  event: string;
  actor: string;
  keys?: string[];
  message?: string;
}

const where = ['-p', 'acme', '-e', 'prod'];

describe('secret history and trash through the CLI', { timeout: 180_000 }, () => {
  let b: BellaSandbox;

  const set = (key: string, value: string) => b.ok(['secrets', 'set', key, ...where], { input: value });
  const get = async (key: string) => (await b.ok(['secrets', 'get', key, ...where])).replace(/\n$/, '');
  const tokenGet = async (key: string, token: string) =>
    (await b.ok(['secrets', 'get', key, '--token', token])).replace(/\n$/, '');
  const history = (key: string, ...extra: string[]) => b.json<History>(['secrets', 'history', key, ...where, ...extra]);
  const trash = async () => (await b.json<{ trash: Trashed[] }>(['secrets', 'trash', ...where])).trash;
  const audit = async (event: string) =>
    (await b.json<{ entries: AuditJson[] }>(['audit', 'list', '--event', event, '-p', 'acme'])).entries;
  /** Exit code 1, one error line on stderr, and the JSON error's code. */
  async function refused(args: string[]): Promise<{ line: string; code: string }> {
    const res = await b.run([...args, '--json']);
    expect(res.code).toBe(1);
    const line = oneErrorLine(res);
    return { line, code: (JSON.parse(res.stdout) as { error: { code: string } }).error.code };
  }

  beforeAll(async () => {
    b = new BellaSandbox();
    await b.ok(['projects', 'create', '--name', 'Acme', '--slug', 'acme']);
    await b.ok(['environments', 'create', '-p', 'acme', '--name', 'Prod', '--slug', 'prod']);
  });
  afterAll(async () => {
    await b.stop();
  });

  it('keeps every value a set replaces; history hides values unless --show-values, which is audited', async () => {
    await set('API_KEY', 'value-one');
    await set('API_KEY', 'value-two');
    await set('API_KEY', 'value-three');

    const h = await history('API_KEY');
    expect(h.inTrash).toBe(false);
    expect(h.versions.map((v) => [v.version, v.change, v.current, v.endedBy])).toEqual([
      [3, 'set', true, null],
      [2, 'set', false, 'set'],
      [1, 'set', false, 'set'],
    ]);
    expect(h.versions.every((v) => v.value === undefined)).toBe(true);
    expect(Date.parse(h.versions[2]!.endedAt!)).toBeLessThanOrEqual(Date.parse(h.versions[1]!.endedAt!));

    const table = await b.ok(['secrets', 'history', 'API_KEY', ...where]);
    expect(table).toMatch(/VERSION\s+SET\s+BY\s+STATE\s+VALUE/);
    expect(table).toContain('current');
    expect(table).not.toContain('value-');
    expect(table).toContain('bella secrets rollback API_KEY --to N');

    const shown = await history('API_KEY', '--show-values');
    expect(shown.versions.map((v) => v.value)).toEqual(['value-three', 'value-two', 'value-one']);
    const reads = await audit('SecretsRead');
    expect(reads.some((e) => e.message === 'history: versions 3, 2, 1' && e.keys?.[0] === 'API_KEY')).toBe(true);
  });

  it('rolls back to an earlier version as a new one, read back by the owner and through a lease token', async () => {
    const token = await issueToken(b, 'acme/prod', 'API_KEY', 'rollback check');
    expect(await tokenGet('API_KEY', token)).toBe('value-three');

    const res = await b.json<{ key: string; version: number; from: number }>([
      'secrets',
      'rollback',
      'API_KEY',
      '--to',
      '1',
      ...where,
    ]);
    expect(res).toEqual({ key: 'API_KEY', version: 4, from: 1 });
    expect(await get('API_KEY')).toBe('value-one');
    expect(await tokenGet('API_KEY', token)).toBe('value-one');

    const h = await history('API_KEY');
    expect(h.versions.map((v) => [v.version, v.change, v.from ?? null, v.endedBy])).toEqual([
      [4, 'rollback', 1, null],
      [3, 'set', null, 'rollback'],
      [2, 'set', null, 'set'],
      [1, 'set', null, 'set'],
    ]);
    const rolled = await audit('SecretRolledBack');
    expect(rolled[0]).toMatchObject({ actor: 'owner', keys: ['API_KEY'] });
    expect(rolled[0]!.message).toContain('version 4 holds the value of version 1 (was version 3)');

    // Refusals name what was wrong and change nothing.
    const same = await refused(['secrets', 'rollback', 'API_KEY', '--to', '4', ...where]);
    expect(same.code).toBe('conflict');
    expect(same.line).toContain('API_KEY is at version 4 already');
    const future = await refused(['secrets', 'rollback', 'API_KEY', '--to', '9', ...where]);
    expect(future.code).toBe('not_found');
    expect(future.line).toContain('API_KEY has no version 9: its newest is version 4');
    const zero = await b.run(['secrets', 'rollback', 'API_KEY', '--to', '0', ...where]);
    expect(zero.code).toBe(2);
    expect(oneErrorLine(zero)).toContain('--to');
    const missing = await b.run(['secrets', 'rollback', 'API_KEY', ...where]);
    expect(missing.code).toBe(2);
    expect(await get('API_KEY')).toBe('value-one');
  });

  it('delete moves a secret to the trash: gone from list, get and a lease scope; restore brings it back', async () => {
    await set('DB_URL', 'postgres://one');
    const token = await issueToken(b, 'acme/prod', 'DB_URL,API_KEY', 'trash check');
    expect(await tokenGet('DB_URL', token)).toBe('postgres://one');

    const del = await b.ok(['secrets', 'delete', 'DB_URL', ...where]);
    expect(del).toContain('in the trash for 30 days');
    const list = await b.json<{ secrets: Array<{ key: string }> }>(['secrets', 'list', ...where]);
    expect(list.secrets.map((s) => s.key)).toEqual(['API_KEY']);
    const gone = await refused(['secrets', 'get', 'DB_URL', ...where]);
    expect(gone.code).toBe('not_found');
    // The lease's scope names DB_URL: in the trash it reads as missing, by name and in a full pull.
    const byToken = await refused(['secrets', 'get', 'DB_URL', '--token', token]);
    expect(byToken.code).toBe('not_found');
    expect(byToken.line).toContain('no secret DB_URL in acme/prod');
    const pulled = await b.json<{ secrets: Record<string, string> } | Record<string, string>>([
      'pull',
      '--token',
      token,
    ]);
    expect(JSON.stringify(pulled)).not.toContain('DB_URL');

    const [entry] = await trash();
    expect(entry).toMatchObject({ key: 'DB_URL', version: 1 });
    expect(Date.parse(entry!.purgeAt) - Date.parse(entry!.deletedAt)).toBe(30 * 86_400_000);
    const trashTable = await b.ok(['secrets', 'trash', ...where]);
    expect(trashTable).toMatch(/KEY\s+VERSION\s+DELETED\s+PURGED/);
    expect(trashTable).toContain('DB_URL');

    const h = await history('DB_URL');
    expect(h.inTrash).toBe(true);
    expect(h.versions).toMatchObject([{ version: 1, current: false, endedBy: 'delete' }]);
    expect(await b.ok(['secrets', 'history', 'DB_URL', ...where])).toContain('bella secrets restore DB_URL');

    const rollback = await refused(['secrets', 'rollback', 'DB_URL', '--to', '1', ...where]);
    expect(rollback.code).toBe('conflict');
    expect(rollback.line).toContain('bella secrets restore DB_URL');

    const restored = await b.json<{ version: number; from: number }>(['secrets', 'restore', 'DB_URL', ...where]);
    expect(restored).toMatchObject({ version: 2, from: 1 });
    expect(await get('DB_URL')).toBe('postgres://one');
    expect(await tokenGet('DB_URL', token)).toBe('postgres://one');
    expect(await trash()).toEqual([]);
    expect((await history('DB_URL')).versions.map((v) => [v.version, v.change, v.from ?? null])).toEqual([
      [2, 'restore', 1],
      [1, 'set', null],
    ]);

    // Restoring over a live secret of that name is refused, saying what to do instead.
    const over = await refused(['secrets', 'restore', 'DB_URL', ...where]);
    expect(over.code).toBe('conflict');
    expect(over.line).toContain('a live secret DB_URL exists in acme/prod');
    const none = await refused(['secrets', 'restore', 'NEVER_SET', ...where]);
    expect(none.code).toBe('not_found');
    expect(none.line).toContain('NEVER_SET is not in the trash of acme/prod');

    for (const event of ['SecretDeleted', 'SecretRestored']) {
      const [e] = await audit(event);
      expect(e).toMatchObject({ actor: 'owner', keys: ['DB_URL'] });
    }
  });

  it('a key set again while in the trash is live again; its deleted value stays in the history', async () => {
    await set('CACHE_URL', 'redis://old');
    await b.ok(['secrets', 'delete', 'CACHE_URL', '--yes', ...where]);
    await set('CACHE_URL', 'redis://new');
    expect(await trash()).toEqual([]);
    const over = await refused(['secrets', 'restore', 'CACHE_URL', ...where]);
    expect(over.line).toContain('bella secrets rollback CACHE_URL --to N');
    const h = await history('CACHE_URL');
    expect(h.versions.map((v) => [v.version, v.endedBy])).toEqual([
      [2, null],
      [1, 'delete'],
    ]);
    await b.ok(['secrets', 'rollback', 'CACHE_URL', '--to', '1', ...where]);
    expect(await get('CACHE_URL')).toBe('redis://old');
  });

  it('--purge destroys a secret for good, live or in the trash, with its whole history', async () => {
    await set('OLD_KEY', 'a');
    await set('OLD_KEY', 'b');
    const res = await b.json<{ purged: string; versions: number }>([
      'secrets',
      'delete',
      'OLD_KEY',
      '--purge',
      ...where,
    ]);
    expect(res).toEqual({ purged: 'OLD_KEY', versions: 2 });
    expect((await refused(['secrets', 'get', 'OLD_KEY', ...where])).code).toBe('not_found');
    const h = await refused(['secrets', 'history', 'OLD_KEY', ...where]);
    expect(h.code).toBe('not_found');
    expect(h.line).toContain('nor in its trash');
    expect(await trash()).toEqual([]);

    await set('TRASHED', 'x');
    await b.ok(['secrets', 'delete', 'TRASHED', ...where]);
    const out = await b.ok(['secrets', 'delete', 'TRASHED', '--purge', ...where]);
    expect(out).toContain('purged TRASHED from acme/prod (1 versions destroyed)');
    expect(await trash()).toEqual([]);
    expect((await refused(['secrets', 'restore', 'TRASHED', ...where])).code).toBe('not_found');
    // A fresh set starts a new history at version 1.
    await set('TRASHED', 'y');
    expect((await history('TRASHED')).versions.map((v) => v.version)).toEqual([1]);

    const purged = await audit('SecretPurged');
    expect(purged.map((e) => e.keys?.[0])).toEqual(['TRASHED', 'OLD_KEY']);
    expect((await refused(['secrets', 'delete', 'NEVER_SET', '--purge', ...where])).code).toBe('not_found');
  });

  it('an import keeps the values it replaces; expire-all re-keys the history, which stays readable', async () => {
    const file = path.join(b.workDir, 'prod.env');
    fs.writeFileSync(file, 'API_KEY=from-import\nNEW_ONE=fresh\n');
    await b.ok(['secrets', 'push', file, ...where]);
    const h = await history('API_KEY');
    expect(h.versions.slice(0, 2).map((v) => [v.version, v.change, v.endedBy])).toEqual([
      [5, 'import', null],
      [4, 'rollback', 'import'],
    ]);
    expect((await history('NEW_ONE')).versions).toMatchObject([{ version: 1, change: 'import', current: true }]);

    await set('GONE', 'in-trash-value');
    await b.ok(['secrets', 'delete', 'GONE', ...where]);
    const rotated = await b.json<{ reencryptedSecrets: number }>([
      'leases',
      'expire-all',
      '--project',
      'acme',
      '--environment',
      'prod',
      '--yes',
    ]);
    expect(rotated.reencryptedSecrets).toBeGreaterThan(0);
    const [all] = await audit('LeasesExpiredAll');
    expect(all!.message).toMatch(/earlier versions with them/);

    const after = await history('API_KEY', '--show-values');
    expect(after.versions.map((v) => v.value)).toEqual([
      'from-import',
      'value-one',
      'value-three',
      'value-two',
      'value-one',
    ]);
    await b.ok(['secrets', 'restore', 'GONE', ...where]);
    expect(await get('GONE')).toBe('in-trash-value');
    await b.ok(['secrets', 'rollback', 'API_KEY', '--to', '2', ...where]);
    expect(await get('API_KEY')).toBe('value-two');
  });

  it('history and trash survive a kill -9 of the daemon (every record replayed and validated)', async () => {
    await b.ok(['secrets', 'delete', 'NEW_ONE', ...where]);
    const before = await history('API_KEY', '--show-values');
    const pid = await b.killDaemon();
    await waitFor(() => !fs.existsSync(`/proc/${pid}`), `the killed daemon ${pid} to be gone`);
    const after = await history('API_KEY', '--show-values');
    expect(after).toEqual(before);
    expect((await trash()).map((t) => t.key)).toEqual(['NEW_ONE']);
    await b.ok(['secrets', 'restore', 'NEW_ONE', ...where]);
    expect(await get('NEW_ONE')).toBe('fresh');
    // Earlier versions are sealed like the live value: no file of the data dir holds one in clear.
    for (const file of filesUnder(b.home).filter((f) => fs.statSync(f).isFile())) {
      const bytes = fs.readFileSync(file);
      for (const value of ['value-one', 'value-two', 'value-three', 'postgres://one', 'in-trash-value']) {
        expect(bytes.includes(value), `${value} in ${file}`).toBe(false);
      }
    }
  });

  it('delete and --purge ask on a terminal (the key typed back, or --yes); a wrong answer changes nothing', async () => {
    // script(1) gives the CLI a real terminal on stdin.
    const onTty = (args: string, answer: string) =>
      b.shell(`script -qec 'bella secrets delete ${args} -p acme -e prod' /dev/null`, { input: `${answer}\n` });
    await set('ASKED', 'kept');

    const wrong = await onTty('ASKED --purge', 'y');
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('this destroys ASKED in acme/prod for good');
    expect(wrong.stdout).toContain('confirmation did not match "ASKED": nothing was changed');
    expect(await get('ASKED')).toBe('kept');

    const toTrash = await onTty('ASKED', 'ASKED');
    expect(toTrash.code, toTrash.stdout).toBe(0);
    expect(toTrash.stdout).toContain('it stays 30 days in the trash');
    expect((await trash()).map((t) => t.key)).toContain('ASKED');

    const purged = await onTty('ASKED --purge', 'ASKED');
    expect(purged.code, purged.stdout).toBe(0);
    expect(purged.stdout).toContain('purged ASKED from acme/prod');
    expect((await trash()).map((t) => t.key)).not.toContain('ASKED');
  });

  it('names what is wrong with bad input', async () => {
    const badKey = await b.run(['secrets', 'history', 'not-a-key', ...where]);
    expect(badKey.code).not.toBe(0);
    expect(oneErrorLine(badKey)).toMatch(/key/i);
    const badEnv = await refused(['secrets', 'trash', '-p', 'acme', '-e', 'nope']);
    expect(badEnv.code).toBe('not_found');
    expect(badEnv.line).toContain("no environment 'nope'");
  });
});
