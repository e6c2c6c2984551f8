import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { snapshotMeta } from './snapshot-header';

// The zod schema the header was checked with before (snapshot.ts): the hand-written check must
// accept and refuse exactly what it did, and keep the same fields.
const former = z.object({
  journalSeq: z.number().int().nonnegative(),
  audit: z.object({ seq: z.number().int().nonnegative(), check: z.string().regex(/^[0-9a-f]{64}$/) }),
  clock: z.number().nonnegative(),
});

const check = 'c0ffee'.padEnd(64, '0');
const valid = { journalSeq: 12, audit: { seq: 40, check }, clock: 1_764_000_000_123 };

const cases: Array<[string, unknown]> = [
  ['a valid header', valid],
  [
    'a header with its other fields (log, schema, createdAt, leaseShards)',
    {
      log: 'snapshot',
      schema: 4,
      createdAt: 1,
      leaseShards: [],
      ...valid,
      audit: { ...valid.audit, extra: true },
    },
  ],
  ['zeros', { journalSeq: 0, audit: { seq: 0, check }, clock: 0 }],
  ['a fractional clock', { ...valid, clock: 1.5 }],
  ['the largest safe sequence', { ...valid, journalSeq: Number.MAX_SAFE_INTEGER }],
  ['a sequence past the safe range', { ...valid, journalSeq: 2 ** 53 }],
  ['a negative sequence', { ...valid, journalSeq: -1 }],
  ['a fractional sequence', { ...valid, journalSeq: 1.5 }],
  ['a sequence as text', { ...valid, journalSeq: '12' }],
  ['no sequence', { audit: valid.audit, clock: valid.clock }],
  ['an infinite clock (JSON 1e999)', { ...valid, clock: Infinity }],
  ['a negative clock', { ...valid, clock: -1 }],
  ['a clock as text', { ...valid, clock: '1' }],
  ['no audit head', { journalSeq: 1, clock: 1 }],
  ['an audit head that is an array', { ...valid, audit: [40, check] }],
  ['an audit head that is null', { ...valid, audit: null }],
  ['an audit check in capitals', { ...valid, audit: { seq: 40, check: check.toUpperCase() } }],
  ['a short audit check', { ...valid, audit: { seq: 40, check: check.slice(1) } }],
  ['an audit check with a newline after it', { ...valid, audit: { seq: 40, check: `${check}\n` } }],
  ['a negative audit sequence', { ...valid, audit: { seq: -1, check } }],
  ['a header that is an array', [valid]],
  ['a header that is null', null],
  ['a header that is a number', 7],
];

describe('snapshotMeta', () => {
  it.each(cases)('%s: as the former schema', (_what, header) => {
    const before = former.safeParse(header);
    const now = snapshotMeta(header);
    expect(now !== null).toBe(before.success);
    if (before.success) expect(now).toStrictEqual(before.data);
  });

  it('keeps only the meta fields, and refuses a header missing one', () => {
    expect(snapshotMeta({ log: 'snapshot', ...valid })).toStrictEqual(valid);
    expect(snapshotMeta({ ...valid, clock: undefined })).toBeNull();
  });
});
