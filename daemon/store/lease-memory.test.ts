import { describe, expect, it } from 'vitest';
import { REASONS, variedLease } from '../../test/helpers/leases';
import { toColumns, type EncodedColumn } from './lease-columns';
import { LeaseTable, type RawColumns } from './lease-memory';
import type { StoredLease } from './schema';

/** A small deterministic generator, so a failure is repeatable. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

/** The columns of `leases` as a lease table file holds them (bytes as they are read back). */
function columnsOf(leases: StoredLease[]): RawColumns {
  return new Map(toColumns(leases).map((c) => [c.name, { kind: c.kind, bytes: Buffer.from(c.bytes) }]));
}

/** A column as text, for a quick comparison. */
function asText(c: EncodedColumn): string {
  return `${c.name} ${c.kind} ${c.bytes.toString('hex')}`;
}

describe('LeaseTable', () => {
  it('behaves as a Map through any sequence of set, delete, clear and pack, growing as it goes', () => {
    const rand = random(21);
    const table = new LeaseTable();
    const model = new Map<string, StoredLease>();
    for (let step = 0; step < 6000; step++) {
      const i = Math.floor(rand() * 1500);
      const op = rand();
      if (op < 0.55) {
        const l = variedLease(i, { uses: step, reason: REASONS[step % REASONS.length]! });
        table.set(l.id, l);
        model.set(l.id, l);
      } else if (op < 0.9) {
        const id = variedLease(i).id;
        expect(table.delete(id)).toBe(model.delete(id));
      } else if (op < 0.999) {
        table.pack();
      } else {
        table.clear();
        model.clear();
      }
      if (step % 500 === 0 || step === 5999) {
        expect(table.size).toBe(model.size);
        expect([...table.keys()]).toEqual([...model.keys()]);
        expect([...table.values()]).toEqual([...model.values()]);
        expect([...table]).toEqual([...model]);
      }
      const probe = variedLease(Math.floor(rand() * 1500)).id;
      expect(table.has(probe)).toBe(model.has(probe));
      expect(table.get(probe)).toEqual(model.get(probe));
    }
    expect(model.size).toBeGreaterThan(100);
  });

  it('scanDeadlines reads the live leases of one status as the cursor does, numbers only', () => {
    const table = new LeaseTable();
    for (let i = 0; i < 400; i++) {
      const l = variedLease(i);
      table.set(l.id, l);
    }
    for (let i = 0; i < 400; i += 11) table.delete(variedLease(i).id);
    const expected: unknown[] = [];
    for (const row of table.rows()) {
      if (row.status !== 'active') continue;
      expected.push([
        row.row,
        row.project,
        row.environment,
        row.expiresAt,
        row.warnedFor ?? -1,
        row.renewedAt ?? row.issuedAt,
      ]);
    }
    const seen: unknown[] = [];
    const { project, environment } = table.dicts;
    table.scanDeadlines('active', (r, p, e, expiresAt, warnedFor, periodStart) =>
      seen.push([r, project.values[p], environment.values[e], expiresAt, warnedFor, periodStart]),
    );
    expect(seen).toEqual(expected);
    expect(seen.length).toBeGreaterThan(50);
    expect(seen.length).toBeLessThan(table.size);
  });

  it('hands out copies: a change counts only once it is set back', () => {
    const table = new LeaseTable();
    const l = variedLease(38);
    table.set(l.id, l);
    const copy = table.get(l.id)!;
    copy.status = 'revoked';
    copy.uses = 99;
    copy.database!.user = 'someone_else';
    l.reason = 'changed by the caller afterwards';
    expect(table.get(l.id)).toEqual(variedLease(38));
    table.set(l.id, copy);
    expect(table.get(l.id)).toMatchObject({ status: 'revoked', uses: 99, database: { user: 'someone_else' } });
    expect(() => table.set('another-id-00000', l)).toThrow(/set under the id/);
  });

  it('shares and freezes each distinct scope, so no holder changes it for every lease', () => {
    const table = new LeaseTable();
    for (const i of [1, 2, 3]) table.set(variedLease(i).id, variedLease(i));
    const [a, b] = [table.get(variedLease(1).id)!, table.get(variedLease(3).id)!];
    expect(a.scope).toBe(b.scope);
    expect(Object.isFrozen(a.scope)).toBe(true);
  });

  it('packing drops dictionary values no lease uses any more', () => {
    const table = new LeaseTable();
    const l = variedLease(7);
    for (let i = 0; i < 10; i++) table.set(l.id, { ...l, endReason: `revoked: reason ${i}` });
    expect(table.dicts.endReason.values).toHaveLength(10);
    table.pack();
    expect(table.dicts.endReason.values).toEqual(['revoked: reason 9']);
    expect(table.get(l.id)).toEqual({ ...l, endReason: 'revoked: reason 9' });
  });

  it('keeps ids and token hashes of any form exactly', () => {
    const table = new LeaseTable();
    const odd = [
      variedLease(1, { id: 'short' }),
      variedLease(2, { id: 'é'.repeat(16) }),
      variedLease(3, { id: 'a'.repeat(17) }),
      // Base64url text that does not decode to exactly these characters stays text.
      variedLease(4, { tokenHash: `${'A'.repeat(42)}B` }),
      variedLease(5, { tokenHash: 'F'.repeat(64) }),
      variedLease(6, { tokenHash: Buffer.alloc(32, 255).toString('base64url') }),
    ];
    for (const l of odd) table.set(l.id, l);
    for (const l of odd) expect(table.get(l.id)).toEqual(l);
    expect([...table.keys()]).toEqual(odd.map((l) => l.id));
    table.pack();
    table.delete('short');
    table.pack();
    expect([...table.values()]).toEqual(odd.slice(1));
  });

  it('records a use on the lease as it is now', () => {
    const table = new LeaseTable();
    const l = variedLease(1);
    table.set(l.id, l);
    expect(table.recordUse(l.id, 1_800_000_000_000)).toBe(true);
    expect(table.recordUse('nothing-00000000', 1)).toBe(false);
    expect(table.get(l.id)).toMatchObject({ uses: l.uses + 1, lastUsedAt: 1_800_000_000_000 });
  });

  it('scans through a cursor that reads the same fields as the leases, in order and newest first', () => {
    const table = new LeaseTable();
    const leases = Array.from({ length: 50 }, (_, i) => variedLease(i));
    for (const l of leases) table.set(l.id, l);
    table.delete(leases[10]!.id);
    const live = leases.filter((_, i) => i !== 10);
    const fields = ['id', 'project', 'environment', 'status', 'issuedAt', 'expiresAt', 'renewedAt'] as const;
    const more = ['endedAt', 'warnedFor', 'by'] as const;
    const seen = [...table.rows()].length;
    expect(seen).toBe(live.length);
    let i = 0;
    for (const row of table.rows()) {
      const l = live[i++]!;
      for (const f of [...fields, ...more]) expect(row[f]).toEqual(l[f]);
      expect(row.lease()).toEqual(l);
    }
    expect(Array.from(table.rows(true), (r) => r.id)).toEqual([...live].reverse().map((l) => l.id));
  });

  it('scan visits the same rows as rows(), in both orders, and end() ends a lease in its row as set() of its copy would', () => {
    const table = new LeaseTable();
    const leases = Array.from({ length: 40 }, (_, i) => variedLease(i));
    for (const l of leases) table.set(l.id, l);
    table.delete(leases[3]!.id);
    for (const reverse of [false, true]) {
      const seen: string[] = [];
      table.scan((row) => seen.push(row.id), reverse);
      expect(seen).toEqual(Array.from(table.rows(reverse), (r) => r.id));
    }
    const target = leases[7]!;
    const row = table.at(table.rowOf(target.id));
    expect([row.id, row.reason, row.scope, row.database]).toEqual([
      target.id,
      target.reason,
      target.scope,
      target.database,
    ]);
    const copy = new LeaseTable();
    copy.set(target.id, target);
    copy.set(target.id, { ...target, status: 'expired', endedAt: target.expiresAt, endReason: 'expired' });
    table.end(row.row, 'expired', target.expiresAt, 'expired');
    expect(table.get(target.id)).toEqual(copy.get(target.id));
    expect(() => table.end(table.rowCount + 1, 'revoked', 1, 'x')).toThrow(/no lease/);
  });

  it('encodes a file straight from its columns, the same bytes as through lease objects, and counts the rows as saved', () => {
    // Rows of every kind: loaded from a file (reasons kept as its bytes), set, changed, ended,
    // used, deleted; members' and database logins; token hashes in hashToken's form, in hex, odd.
    const build = (hash: (i: number) => string) => {
      const table = new LeaseTable();
      const loaded = Array.from({ length: 120 }, (_, i) => variedLease(i, { tokenHash: hash(i) }));
      expect(table.loadColumns(columnsOf(loaded), loaded.length)).toBeNull();
      for (let i = 120; i < 400; i++) table.set(variedLease(i).id, variedLease(i, { tokenHash: hash(i) }));
      for (let i = 0; i < 400; i += 9) table.delete(variedLease(i).id);
      for (let i = 5; i < 400; i += 11) {
        const row = table.rowOf(variedLease(i).id);
        if (row >= 0) table.end(row, 'revoked', 1_800_000_000_000, `r${i}`);
      }
      for (let i = 7; i < 400; i += 13) table.recordUse(variedLease(i).id, 1_800_000_000_000 + i);
      const changed = variedLease(30, { tokenHash: hash(30), reason: 'changed', scope: ['NEW_*'], status: 'expired' });
      table.set(changed.id, changed);
      return table;
    };
    const bytes = (i: number) => Buffer.from(Array.from({ length: 32 }, (_, k) => (i * 31 + k * 97 + (k >> 2)) & 255));
    const forms: Array<[string, (i: number) => string]> = [
      ['hashToken', (i) => bytes(i).toString('base64url')],
      ['hex', (i) => bytes(i).toString('hex')],
      ['mixed', (i) => variedLease(i).tokenHash],
    ];
    for (const [, hash] of forms) {
      const [direct, through] = [build(hash), build(hash)];
      for (const [start, end] of [
        [0, 120],
        [100, 250],
        [250, 400],
        [9, 10],
        [0, direct.rowCount],
      ] as const) {
        const out = direct.takeColumns(start, end);
        const leases = through.takeRows(start, end);
        expect(out.count).toBe(leases.length);
        expect(out.columns.map(asText)).toEqual(leases.length ? toColumns(leases).map(asText) : []);
        expect(direct.changedIn(start, end)).toBe(false);
      }
    }
    // An odd id in the rows: through lease objects.
    const odd = new LeaseTable();
    const leases = [variedLease(1), variedLease(2, { id: 'short' }), variedLease(3)];
    for (const l of leases) odd.set(l.id, l);
    const out = odd.takeColumns(0, 3);
    expect([out.count, out.columns.map(asText)]).toEqual([3, toColumns(leases).map(asText)]);
  });

  it('loads lease table columns straight into its rows, after those it holds, in order', () => {
    const table = new LeaseTable();
    const first = Array.from({ length: 300 }, (_, i) => variedLease(i, { tokenHash: variedLease(i * 3).tokenHash }));
    const second = Array.from({ length: 200 }, (_, i) => variedLease(1000 + i));
    table.set(variedLease(5000).id, variedLease(5000));
    table.reserve(501);
    expect(table.loadColumns(columnsOf(first), first.length)).toBeNull();
    expect(table.loadColumns(columnsOf(second), second.length)).toBeNull();
    const all = [variedLease(5000), ...first, ...second];
    expect(table.size).toBe(all.length);
    expect([...table.values()]).toEqual(all);
    for (const l of all) expect(table.get(l.id)).toEqual(l);
    // Loaded rows change, leave and come back like any other.
    table.set(first[3]!.id, { ...first[3]!, status: 'expired' });
    table.delete(first[4]!.id);
    table.set(first[4]!.id, first[4]!);
    table.pack();
    const expected = all.map((l) => (l.id === first[3]!.id ? { ...l, status: 'expired' } : l));
    const moved = expected.splice(expected.indexOf(first[4]!), 1);
    expect([...table.values()]).toEqual([...expected, ...moved]);
  });

  it('names the column at fault, or the lease held twice, when columns are not what bella writes', () => {
    const leases = Array.from({ length: 20 }, (_, i) => variedLease(i));
    const broken = (name: string, bytes: Buffer | ((b: Buffer) => Buffer), kind?: string) => {
      const c = columnsOf(leases) as Map<string, { kind: string; bytes: Buffer }>;
      const col = c.get(name)!;
      c.set(name, { kind: kind ?? col.kind, bytes: typeof bytes === 'function' ? bytes(col.bytes) : bytes });
      return new LeaseTable().loadColumns(c, leases.length);
    };
    const f64 = (values: number[]) => Buffer.from(Float64Array.from(values).buffer);
    const i32 = (values: number[]) => Buffer.from(Int32Array.from(values).buffer);
    expect(broken('reason', Buffer.from(JSON.stringify(leases.map((l) => l.reason)).replace('"]', '\\q"]')))).toEqual({
      column: 'reason',
    });
    expect(broken('reason', Buffer.from(JSON.stringify(leases.slice(1).map((l) => l.reason))))).toEqual({
      column: 'reason',
    });
    expect(broken('reason', (b) => Buffer.concat([b, Buffer.from(' ')]))).toEqual({ column: 'reason' });
    expect(broken('issuedAt', f64(leases.map(() => 1.5)))).toEqual({ column: 'issuedAt' });
    expect(broken('renewedAt', f64(leases.map(() => -2)))).toEqual({ column: 'renewedAt' });
    expect(broken('uses', (b) => b.subarray(8))).toEqual({ column: 'uses' });
    expect(broken('status.d', Buffer.from('["active","gone"]'))).toEqual({ column: 'status.d' });
    expect(broken('scope.v', i32(leases.map(() => 7)))).toEqual({ column: 'scope.v' });
    expect(broken('project.d', Buffer.from('not json'))).toEqual({ column: 'project.d' });
    expect(broken('extra', Buffer.from('[[99,{}]]'))).toEqual({ column: 'extra' });
    expect(
      broken('id', (b) => Buffer.concat([b.subarray(0, 16), Buffer.from('\n'.repeat(16)), b.subarray(32)])),
    ).toEqual({ column: 'id' });
    expect(broken('tokenHash', Buffer.from('x'), 'latin1')).toEqual({ column: 'tokenHash' });
    const twice = [...leases, leases[3]!];
    expect(new LeaseTable().loadColumns(columnsOf(twice), twice.length)).toEqual({ duplicate: leases[3]!.id });
    const held = new LeaseTable();
    held.set(leases[7]!.id, leases[7]!);
    expect(held.loadColumns(columnsOf(leases), leases.length)).toEqual({ duplicate: leases[7]!.id });
  });
});
