import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { variedLease } from '../../test/helpers/leases';
import { dataFiles } from './data-files';
import { crc32 } from 'node:zlib';
import { leaseTableDir, LEASES_PER_SHARD } from './lease-table';
import type { StoredLease } from './schema';
import { Store } from './store';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function home(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-table-'));
  dirs.push(dir);
  return dir;
}

async function issue(store: Store, leases: StoredLease[]): Promise<void> {
  await store.transact((state, touched) => {
    for (const l of leases) {
      state.leases.set(l.id, l);
      touched.lease(l.id);
    }
    return { result: null, audit: [{ event: 'LeaseIssued', outcome: 'Success', actor: 'owner' }] };
  });
}

const tableFiles = (dir: string) => fs.readdirSync(leaseTableDir(dir)).sort();

/** Every file of a data dir with its bytes. */
function bytesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.set(path.join(e.parentPath, e.name), fs.readFileSync(path.join(e.parentPath, e.name)));
  }
  return out;
}

async function expectRefused(dir: string, says: RegExp[]): Promise<void> {
  const before = bytesOf(dir);
  const err = await Store.open(dir).then(
    (s) => s.close().then(() => null),
    (e: Error) => e,
  );
  expect(err).toBeInstanceOf(Error);
  for (const pattern of says) expect(err!.message, err!.message).toMatch(pattern);
  const after = bytesOf(dir);
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [file, bytes] of before) expect(after.get(file)!.equals(bytes), `${file} changed`).toBe(true);
}

describe('the lease table', () => {
  const count = LEASES_PER_SHARD + 3_000;
  const leases = Array.from({ length: count }, (_, i) => variedLease(i));

  /** A data dir whose snapshot holds `count` leases in the lease table (two files). */
  async function tableDir(): Promise<string> {
    const dir = home();
    const store = await Store.open(dir);
    await issue(store, leases);
    await store.close();
    return dir;
  }

  it('holds many leases in column files named by state.snapshot, read back equal and in order', async () => {
    const dir = await tableDir();
    const snapshot = fs.readFileSync(dataFiles(dir).snapshot, 'utf8');
    expect(snapshot).not.toContain('"t":"lease"');
    expect(snapshot).toContain('"leaseShards"');
    expect(snapshot).toContain('"schema":4');
    expect(tableFiles(dir)).toHaveLength(2);
    for (const f of tableFiles(dir)) expect(fs.statSync(path.join(leaseTableDir(dir), f)).mode & 0o777).toBe(0o600);

    const store = await Store.open(dir);
    expect([...store.state.leases.keys()]).toEqual(leases.map((l) => l.id));
    expect([...store.state.leases.values()]).toEqual(leases);
    // Leases of one environment share its name, as leases read from a journal do.
    const [a, b] = [store.state.leases.get(variedLease(1).id)!, store.state.leases.get(variedLease(3).id)!];
    expect(a.scope).toBe(b.scope);
    await store.close();
  }, 60_000);

  it('compaction writes again only the files whose leases changed, and removes the old ones once state.snapshot names the new ones', async () => {
    const dir = await tableDir();
    const first = tableFiles(dir);
    // A leftover of a crash before state.snapshot was renamed: never named, so never read.
    fs.copyFileSync(path.join(leaseTableDir(dir), first[0]!), path.join(leaseTableDir(dir), '9-aaaaaaaaaaaa-0.leases'));
    const store = await Store.open(dir);
    await store.transact((state, touched) => {
      const l = state.leases.get(leases[5]!.id)!;
      state.leases.set(l.id, { ...l, status: 'revoked' });
      touched.lease(l.id);
      return { result: null, audit: [] };
    });
    await store.close();
    const second = tableFiles(dir);
    expect(second).toHaveLength(2);
    // The first file held the revoked lease: written again; the second is named as it was.
    expect(second).not.toContain(first[0]);
    expect(second).toContain(first[1]);
    const reopened = await Store.open(dir);
    expect(reopened.state.leases.get(leases[5]!.id)!.status).toBe('revoked');
    expect(reopened.state.leases.size).toBe(count);
    // Back below the threshold, the leases return to state.snapshot and the table empties.
    await reopened.transact((state, touched) => {
      for (const l of leases.slice(10)) {
        state.leases.delete(l.id);
        touched.lease(l.id);
      }
      return { result: null, audit: [] };
    });
    await reopened.close();
    expect(tableFiles(dir)).toEqual([]);
    expect(fs.readFileSync(dataFiles(dir).snapshot, 'utf8')).toContain('"t":"lease"');
    const small = await Store.open(dir);
    expect(small.state.leases.size).toBe(10);
    await small.close();
  }, 60_000);

  it('new leases join the last file; files of unchanged leases are kept byte for byte; read back equal', async () => {
    const dir = await tableDir();
    const first = tableFiles(dir);
    const kept = fs.readFileSync(path.join(leaseTableDir(dir), first[0]!));
    const more = Array.from({ length: 2_000 }, (_, i) => variedLease(count + 10 + i));
    let store = await Store.open(dir);
    await issue(store, more.slice(0, 1_000));
    await store.close();
    const second = tableFiles(dir);
    expect(second).toHaveLength(2);
    expect(second).toContain(first[0]);
    expect(second).not.toContain(first[1]);
    expect(fs.readFileSync(path.join(leaseTableDir(dir), first[0]!)).equals(kept)).toBe(true);

    // A use and a deletion in the first file, more leases after: both files are written again.
    store = await Store.open(dir);
    store.state.leases.recordUse(leases[7]!.id, 1_234_567);
    await store.transact((state, touched) => {
      state.leases.delete(leases[8]!.id);
      touched.lease(leases[8]!.id);
      touched.lease(leases[7]!.id);
      return { result: null, audit: [] };
    });
    await issue(store, more.slice(1_000));
    await store.close();
    const third = tableFiles(dir);
    for (const f of second) expect(third).not.toContain(f);
    store = await Store.open(dir);
    const expected = [...leases.filter((l) => l.id !== leases[8]!.id), ...more];
    expect([...store.state.leases.keys()]).toEqual(expected.map((l) => l.id));
    expect(store.state.leases.get(leases[7]!.id)).toEqual({
      ...leases[7],
      lastUsedAt: 1_234_567,
      uses: leases[7]!.uses + 1,
    });
    expect(store.state.leases.get(more[1_999]!.id)).toEqual(more[1_999]);
    // Nothing changed: the next compaction writes no table file at all.
    await store.transact((state, touched) => {
      touched.setting();
      return { result: null, audit: [] };
    });
    await store.close();
    expect(tableFiles(dir)).toEqual(third);
  }, 60_000);

  it('once deleted rows are a quarter of the table, packs it and writes every file again', async () => {
    const dir = await tableDir();
    const first = tableFiles(dir);
    let store = await Store.open(dir);
    const gone = leases.slice(100, 100 + Math.ceil(count / 4));
    await store.transact((state, touched) => {
      for (const l of gone) {
        state.leases.delete(l.id);
        touched.lease(l.id);
      }
      return { result: null, audit: [] };
    });
    await store.close();
    const second = tableFiles(dir);
    for (const f of second) expect(first).not.toContain(f);
    store = await Store.open(dir);
    const ids = new Set(gone.map((l) => l.id));
    expect([...store.state.leases.values()]).toEqual(leases.filter((l) => !ids.has(l.id)));
    await store.close();
  }, 60_000);

  it('a backup copies state.snapshot and its table files; copied back, it restores every lease into a new table', async () => {
    const dir = await tableDir();
    const backups = dataFiles(dir).backups;
    let store = await Store.open(dir);
    const first = await store.backup();
    expect(fs.readFileSync(first).equals(fs.readFileSync(dataFiles(dir).snapshot))).toBe(true);
    expect(fs.readdirSync(path.join(backups, 'lease-table')).sort()).toEqual(tableFiles(dir));
    // A later backup of a changed table; keeping one drops the files only the older one named.
    await store.transact((state, touched) => {
      state.leases.delete(leases[0]!.id);
      touched.lease(leases[0]!.id);
      return { result: null, audit: [] };
    });
    const second = await store.backup(1, new Date(Date.now() + 1000));
    await store.close();
    expect(fs.existsSync(first)).toBe(false);
    expect(fs.readdirSync(path.join(backups, 'lease-table'))).toHaveLength(2);

    // The restore a refusal advises: the backup copied over state.snapshot (the journal set aside).
    fs.copyFileSync(second, dataFiles(dir).snapshot);
    fs.rmSync(dataFiles(dir).journal);
    fs.rmSync(leaseTableDir(dir), { recursive: true });
    store = await Store.open(dir, { acceptRollback: true });
    expect([...store.state.leases.values()]).toEqual(leases.slice(1));
    // Read from backups/lease-table/, then written again into the data dir's own table.
    expect(tableFiles(dir)).toHaveLength(2);
    await store.close();
    store = await Store.open(dir);
    expect(store.state.leases.size).toBe(count - 1);
    await store.close();
  }, 60_000);

  it('puts the table back to what is on disk when a commit cannot be written, in the same object', async () => {
    const dir = await tableDir();
    const store = await Store.open(dir);
    const table = store.state.leases;
    const journal = dataFiles(dir).journal;
    fs.renameSync(journal, `${journal}.old`);
    fs.copyFileSync(`${journal}.old`, journal);
    const extra = variedLease(count + 1);
    const failed = store.transact((state, touched) => {
      state.leases.set(leases[2]!.id, { ...state.leases.get(leases[2]!.id)!, status: 'revoked' });
      state.leases.delete(leases[3]!.id);
      state.leases.set(extra.id, extra);
      for (const id of [leases[2]!.id, leases[3]!.id, extra.id]) touched.lease(id);
      return { result: null, audit: [] };
    });
    await expect(failed).rejects.toThrow(/replaced/);
    expect(store.state.leases).toBe(table);
    expect(table.size).toBe(count);
    expect(table.has(extra.id)).toBe(false);
    expect(table.get(leases[2]!.id)).toEqual(leases[2]);
    expect([...table.keys()]).toEqual(leases.map((l) => l.id));
  }, 60_000);

  it('reads back a file whose ids are not all 16 characters (through lease objects), equal and in order', async () => {
    const dir = home();
    const odd = leases.slice(0, 1_500).map((l, i) => (i === 700 ? { ...l, id: `an-odd-id-${i}-of-the-table` } : l));
    const store = await Store.open(dir);
    await issue(store, odd);
    await store.close();
    expect(tableFiles(dir)).toHaveLength(1);
    const again = await Store.open(dir);
    expect([...again.state.leases.values()]).toEqual(odd);
    await again.close();
  });

  it('refuses a damaged, edited, replaced or missing table file, naming it, and changes nothing', async () => {
    const dir = await tableDir();
    const table = leaseTableDir(dir);
    const [f0, f1] = tableFiles(dir).map((f) => path.join(table, f));
    const original = fs.readFileSync(f0!);
    const eol = original.indexOf(0x0a);
    const header = JSON.parse(original.toString('utf8', 9, eol)) as {
      columns: Array<[string, string, number, string]>;
    };
    let at = eol + 1;
    for (const [name, , length] of header.columns) {
      if (name === 'uses') break;
      at += length;
    }
    const crc = (b: Buffer) => crc32(b).toString(16).padStart(8, '0');

    // One byte of a column changed: its checksum fails, at that column.
    const damaged = Buffer.from(original);
    damaged[at + 3]! ^= 0x40;
    fs.writeFileSync(f0!, damaged);
    await expectRefused(dir, [new RegExp(`${path.basename(f0!)} is damaged at byte ${at}:`), /checksum/]);

    // The same change with every checksum fixed up: the keyed seal fails.
    const uses = header.columns.find((c) => c[0] === 'uses')!;
    uses[3] = crc(damaged.subarray(at, at + uses[2]));
    const text = JSON.stringify(header);
    const edited = Buffer.concat([Buffer.from(`${crc(Buffer.from(text))} ${text}`), damaged.subarray(eol)]);
    expect(edited.length).toBe(original.length);
    fs.writeFileSync(f0!, edited);
    await expectRefused(dir, [/is damaged at byte \d+/, /seal/, /edited/]);

    // Cut short.
    fs.writeFileSync(f0!, original.subarray(0, at + 5));
    await expectRefused(dir, [new RegExp(`is damaged at byte ${at + 5}:`), /cut/]);

    // A header longer than the first read of a file (64 KiB), its checksum fixed up: read whole, the seal fails.
    const padded = JSON.stringify({ ...JSON.parse(original.toString('utf8', 9, eol)), pad: 'x'.repeat(70_000) });
    fs.writeFileSync(
      f0!,
      Buffer.concat([Buffer.from(`${crc(Buffer.from(padded))} ${padded}`), original.subarray(eol)]),
    );
    await expectRefused(dir, [/is damaged at byte \d+/, /seal/, /edited/]);

    // Another whole, sealed table file in its place.
    fs.copyFileSync(f1!, f0!);
    await expectRefused(dir, [/is damaged at byte 0/, /replaced/]);

    // Gone.
    fs.rmSync(f0!);
    await expectRefused(dir, [/missing/, /lease table/]);

    fs.writeFileSync(f0!, original);
    const store = await Store.open(dir);
    expect(store.state.leases.size).toBe(count);
    await store.close();
  }, 60_000);
});
