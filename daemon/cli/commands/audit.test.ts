import { describe, expect, it } from 'vitest';
import { describeVerification } from './audit';

describe('bella audit verify in words', () => {
  it('says the chain holds, then one line per epoch on PostgreSQL', () => {
    expect(describeVerification({ ok: true, entries: 455, firstBroken: null })).toEqual([
      'audit log intact: 455 entries, hash chain verified',
    ]);
    expect(
      describeVerification({
        ok: true,
        entries: 455,
        firstBroken: null,
        epochs: [
          { epoch: 2, first: 1, last: 119 },
          { epoch: 3, first: 120, last: 455 },
        ],
      }),
    ).toEqual([
      'audit log intact: 455 entries, hash chain verified',
      'epoch 2  entries 1–119',
      'epoch 3  entries 120–455',
    ]);
  });

  it('names the epochs when the chain is broken too (the refusal itself goes to stderr)', () => {
    const broken = { seq: 130, file: 'bella_audit', offset: 0, reason: 'check mismatch' };
    expect(
      describeVerification({
        ok: false,
        entries: 129,
        firstBroken: broken,
        epochs: [{ epoch: 3, first: 120, last: 129 }],
      }),
    ).toEqual(['epoch 3  entries 120–129']);
    expect(describeVerification({ ok: false, entries: 129, firstBroken: broken })).toEqual([]);
  });
});
