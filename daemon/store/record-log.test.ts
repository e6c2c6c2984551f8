import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BellaError } from '../api';
import { scanLog } from './log-scan';
import { Journal } from './journal';
import {
  frame,
  frameAll,
  GENESIS_CHECK,
  headerPayload,
  PayloadChunks,
  payloadsOf,
  type LogFormat,
} from './record-frame';
import { RecordLog } from './record-log';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const hmac: LogFormat = { check: 'hmac', key: randomBytes(32) };
const advice = 'restore it';

async function logWith(payloads: string[], format: LogFormat = hmac): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-log-'));
  dirs.push(dir);
  const file = path.join(dir, 'test.log');
  const log = await RecordLog.create(file, format, headerPayload('test', {}));
  await log.append(log.prepare(payloads));
  log.close();
  return file;
}

const payloads = (scan: ReturnType<typeof scanLog>) => scan.records.map((r) => r.payload.toString('utf8'));

function damage(fn: () => unknown): { offset: number; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BellaError);
    return { offset: ((err as BellaError).details as { offset: number }).offset, message: (err as Error).message };
  }
  throw new Error('expected the log to be refused as damaged');
}

describe('RecordLog and scanLog', () => {
  it('reads back what was appended, chained, with the header', async () => {
    const file = await logWith(['{"a":1}', '{"b":2}', '{"c":3}']);
    const scan = scanLog(file, hmac, { advice });
    expect(scan.header).toMatchObject({ log: 'test', v: 1 });
    expect(payloads(scan)).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(scan.end).toBe(scan.size);
  });

  it('reads records larger than its read buffer, and many across its refills, the same with and without keeping them', async () => {
    const big = JSON.stringify({ big: 'x'.repeat(2_500_000) });
    const small = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ i, pad: 'y'.repeat(i % 97) }));
    const written = [...small.slice(0, 10_000), big, ...small.slice(10_000), big];
    const file = await logWith(written);
    expect(payloads(scanLog(file, hmac, { advice }))).toEqual(written);
    const visited: string[] = [];
    const raws: string[] = [];
    const scan = scanLog(file, hmac, {
      advice,
      keep: false,
      visit: (record, raw) => {
        if (record.offset === 0) return;
        visited.push(record.payload.toString('utf8'));
        raws.push(raw.subarray(raw.length - 1).toString('latin1'));
      },
    });
    expect(scan.records).toEqual([]);
    expect(visited).toEqual(written);
    expect(new Set(raws)).toEqual(new Set(['\n']));
  });

  it('treats a record cut short by a crash as a torn tail, and cuts it off on open', async () => {
    const file = await logWith(['{"a":1}', '{"b":2}']);
    const full = fs.readFileSync(file);
    for (const cut of [3, 20, 75, 80]) {
      fs.writeFileSync(file, full.subarray(0, full.length - cut));
      const scan = scanLog(file, hmac, { advice });
      expect(payloads(scan)).toEqual(['{"a":1}']);
      expect(scan.end).toBeLessThan(scan.size);
    }
    const scan = scanLog(file, hmac, { advice });
    const log = RecordLog.open(file, hmac, scan);
    await log.append(log.prepare(['{"c":3}']));
    log.close();
    expect(payloads(scanLog(file, hmac, { advice }))).toEqual(['{"a":1}', '{"c":3}']);
  });

  it('keeps a whole last record that lost only its newline, and restores the newline on open', async () => {
    const file = await logWith(['{"a":1}', '{"b":2}']);
    const full = fs.readFileSync(file);
    fs.writeFileSync(file, full.subarray(0, full.length - 1));
    const scan = scanLog(file, hmac, { advice });
    expect(payloads(scan)).toEqual(['{"a":1}', '{"b":2}']);
    expect(scan.missingNewline).toBe(true);
    RecordLog.open(file, hmac, scan).close();
    expect(fs.readFileSync(file).equals(full)).toBe(true);
  });

  it('treats zeros after the last record (data that never reached the disk) as torn', async () => {
    const file = await logWith(['{"a":1}']);
    fs.appendFileSync(file, Buffer.alloc(4096));
    expect(payloads(scanLog(file, hmac, { advice }))).toEqual(['{"a":1}']);
  });

  it('refuses an edited record, naming its offset, and a record removed from the middle', async () => {
    const file = await logWith(['{"status":"revoked"}', '{"b":2}']);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text.replace('revoked', 'rewoked'));
    const edited = damage(() => scanLog(file, hmac, { advice }));
    expect(edited.offset).toBe(text.indexOf('\n') + 1);
    expect(edited.message).toMatch(/keyed hash/);
    const lines = text.split('\n');
    fs.writeFileSync(file, [lines[0], lines[2], ''].join('\n'));
    expect(damage(() => scanLog(file, hmac, { advice })).message).toMatch(/keyed hash/);
  });

  it('refuses garbage after a record, and a torn-looking record followed by more records', async () => {
    const file = await logWith(['{"a":1}', '{"b":2}']);
    const text = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, text + 'not a frame\n');
    expect(damage(() => scanLog(file, hmac, { advice })).offset).toBe(text.length);
    const lines = text.split('\n');
    // The first record's length made larger: it now swallows the next line, so it is not torn.
    fs.writeFileSync(file, [lines[0], `000000ff${lines[1]!.slice(8)}`, lines[2], ''].join('\n'));
    expect(damage(() => scanLog(file, hmac, { advice })).message).toMatch(/longer than the rest/);
  });

  it('reads records across chunk boundaries, with the raw frames handed to the visitor intact', async () => {
    const big = Array.from({ length: 40 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(60_000 + i) }));
    const file = await logWith(big, { check: 'crc32' });
    const bytes = fs.readFileSync(file);
    const raws: Buffer[] = [];
    const scan = scanLog(file, { check: 'crc32' }, { advice, visit: (_r, raw) => raws.push(Buffer.from(raw)) });
    expect(payloads(scan)).toEqual(big);
    expect(Buffer.concat(raws).equals(bytes)).toBe(true);
  });

  it('writes batches now and makes them durable later; a sync refused (file replaced) puts the tail back', async () => {
    const file = await logWith(['{"a":1}']);
    const log = RecordLog.open(file, hmac, scanLog(file, hmac, { advice }));
    const start = { size: log.size, check: log.lastCheck, records: log.records };
    log.write(log.prepare(['{"b":2}']));
    // Written, not yet durable: readers see it, the next batch chains from it.
    expect(log.pending).toBe(true);
    log.write(log.prepare(['{"c":3}']));
    expect(payloads(scanLog(file, hmac, { advice }))).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    await log.sync();
    expect(log.pending).toBe(false);
    expect(log.records).toBe(start.records + 2);
    const synced = { size: log.size, check: log.lastCheck, records: log.records };
    log.write(log.prepare(['{"d":4}']));
    fs.renameSync(file, `${file}.moved`);
    fs.writeFileSync(file, fs.readFileSync(`${file}.moved`));
    await expect(log.sync()).rejects.toThrow(/replaced/);
    expect({ size: log.size, check: log.lastCheck, records: log.records }).toEqual(synced);
    expect(log.pending).toBe(false);
    log.close();
  });

  it('refuses to append to a file replaced under it, and leaves the old one as it was', async () => {
    const file = await logWith(['{"a":1}']);
    const scan = scanLog(file, hmac, { advice });
    const log = RecordLog.open(file, hmac, scan);
    const size = fs.statSync(file).size;
    fs.chmodSync(file, 0o400);
    // The fd stays writable; make the write fail by replacing the file under it instead.
    fs.renameSync(file, `${file}.moved`);
    fs.writeFileSync(file, fs.readFileSync(`${file}.moved`));
    await expect(log.append(log.prepare(['{"b":2}']))).rejects.toThrow(/replaced/);
    expect(fs.statSync(`${file}.moved`).size).toBe(size);
    log.close();
  });

  it('frames a batch as one buffer chained as record by record: multi-byte text and bytes alike, no newline inside', async () => {
    const texts = ['{"name":"Zoë – 東京 🚀"}', Buffer.from('{"raw":true}'), '{"a":1}'];
    const batch = frameAll(hmac, GENESIS_CHECK, texts);
    // The frame format written out by hand: `<length, 8 hex> <HMAC(prev ‖ payload)> <payload>\n`.
    let prev = GENESIS_CHECK;
    const one = texts.map((t) => {
      const body = Buffer.isBuffer(t) ? t : Buffer.from(t, 'utf8');
      const check = createHmac('sha256', hmac.key!).update(prev).update(body).digest('hex');
      prev = check;
      const head = `${body.length.toString(16).padStart(8, '0')} ${check} `;
      return { bytes: Buffer.concat([Buffer.from(head, 'latin1'), body, Buffer.from('\n')]), check };
    });
    expect(batch.bytes).toEqual(Buffer.concat(one.map((f) => f.bytes)));
    expect(batch.checks).toEqual(one.map((f) => f.check));
    expect(batch.lengths).toEqual(one.map((f) => f.bytes.length));
    expect(frame(hmac, GENESIS_CHECK, texts[0]!)).toEqual(one[0]);
    expect(() => frameAll(hmac, GENESIS_CHECK, ['{"a":1}', '{"b":\n2}'])).toThrow(/newline/);
    const file = await logWith(texts.map((t) => t.toString()));
    expect(payloads(scanLog(file, hmac, { advice }))).toEqual(texts.map((t) => t.toString()));
  });

  it('refuses to write to a file removed under it, or one another program wrote to', async () => {
    const file = await logWith(['{"a":1}']);
    const log = RecordLog.open(file, hmac, scanLog(file, hmac, { advice }));
    fs.appendFileSync(file, 'x');
    expect(() => log.write(log.prepare(['{"b":2}']))).toThrow(/changed by another program/);
    fs.truncateSync(file, log.size);
    log.write(log.prepare(['{"b":2}']));
    await log.sync();
    fs.rmSync(file);
    expect(() => log.write(log.prepare(['{"c":3}']))).toThrow(/was removed/);
    log.close();
  });

  it('builds a small record in a small chunk, a large one in chunks doubling up to the maximum', () => {
    const small = new PayloadChunks();
    small.add('{"seq":1,"changes":[]}');
    expect(small.payload().map((b) => b.buffer.byteLength)).toEqual([4096]);
    const large = new PayloadChunks(32 * 1024);
    large.add('x'.repeat(100_000));
    const sizes = large.payload().map((b) => b.buffer.byteLength);
    expect(sizes.slice(0, 5)).toEqual([4096, 8192, 16384, 32768, 32768]);
    expect(Buffer.concat(large.payload()).toString()).toBe('x'.repeat(100_000));
  });

  it('frames text, bytes, pieces and text given by a function to the same bytes, each read back whole', async () => {
    const texts = ['{"a":1}', '{"é":"ü ✓"}', JSON.stringify({ long: 'x'.repeat(300_000) })];
    const chunks = (text: string) => {
      const out = new PayloadChunks(64);
      for (let i = 0; i < text.length; i += 7) out.add(text.slice(i, i + 7));
      return out.payload();
    };
    const forms = [texts, texts.map((t) => Buffer.from(t)), texts.map(chunks), texts.map((t) => () => t)];
    const batches = forms.map((f) => frameAll(hmac, '0'.repeat(64), f));
    for (const b of batches) expect(b.bytes.equals(batches[0]!.bytes)).toBe(true);
    expect(Array.from(payloadsOf(batches[0]!), (p) => p.toString('utf8'))).toEqual(texts);
    const file = await logWith(texts);
    expect(payloads(scanLog(file, hmac, { advice }))).toEqual(texts);
    expect(() => frameAll(hmac, '0'.repeat(64), ['{"a":\n1}'])).toThrow(/newline/);
  });

  it('writes a journal record as the JSON of the whole record, its changes read once and its entries as framed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bella-log-'));
    dirs.push(dir);
    const file = path.join(dir, 'journal.log');
    const journal = await Journal.create(file, hmac, 0);
    const entries = [{ seq: 1, ts: '2026-12-03T00:00:00.000Z', event: 'LeaseExpired', reason: 'é ✓' }];
    const changes = Array.from({ length: 3000 }, (_, i) => ({
      t: 'settings' as const,
      v: { notifications: { desktop: i % 2 === 0, environments: { [`prøject-${'ü'.repeat(i % 50)}/e`]: true } } },
    }));
    let reads = 0;
    const record = {
      seq: 1,
      clock: 1234.5,
      audit: { head: { seq: 1, check: 'a'.repeat(64) }, entries },
      changes,
    };
    await journal.append({
      ...record,
      audit: {
        ...record.audit,
        encoded: payloadsOf(
          frameAll(
            hmac,
            '0'.repeat(64),
            entries.map((e) => JSON.stringify(e)),
          ),
        ),
      },
      changes: (function* () {
        reads++;
        yield* changes;
      })(),
    });
    journal.close();
    expect(reads).toBe(1);
    expect(payloads(scanLog(file, hmac, { advice }))).toEqual([JSON.stringify(record)]);
  });
});
