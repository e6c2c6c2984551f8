import { describe, expect, it } from 'vitest';
import { AUDIT_CSV_COLUMNS, auditToCsv } from './audit-csv';
import { csvField, formatCsv } from './csv';

describe('csvField', () => {
  it('quotes fields with commas, quotes and newlines (RFC 4180)', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField(['A', 'B'])).toBe('A B');
    expect(csvField(undefined)).toBe('');
    expect(formatCsv(['x', 'y'], [[1, 'a\nb']])).toBe('x,y\r\n1,"a\nb"\r\n');
  });

  it.each(["=cmd|' /C calc'!A0", '+1', '-2+3', '@SUM(A1)', '\tx', '\rx'])(
    'neutralises a field starting like a formula: %j',
    (value) => {
      const field = csvField(value);
      expect(field.replace(/^"/, '')).toMatch(/^'/);
    },
  );

  it('shows control characters escaped so a CSV on a terminal cannot drive it', () => {
    expect(csvField('\x1b]0;pwned\x07\x1b[2J')).toBe('\\x1b]0;pwned\\x07\\x1b[2J');
    expect(csvField("\x1b]0;pwned\x07\x1b[2J=cmd|' /C calc'!A0")).toBe("\\x1b]0;pwned\\x07\\x1b[2J=cmd|' /C calc'!A0");
    expect(csvField('=x\x1b')).toBe("'=x\\x1b");
  });
});

describe('auditToCsv', () => {
  it('writes the one set of audit columns', () => {
    const csv = auditToCsv([{ seq: 3, event: 'LeaseIssued', keys: ['A', 'B'], reason: '=evil()' }]);
    const [header, row] = csv.split('\r\n');
    expect(header).toBe(AUDIT_CSV_COLUMNS.join(','));
    expect(row).toBe("3,,LeaseIssued,,,,,,A B,'=evil(),,,,");
  });
});
