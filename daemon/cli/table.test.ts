import { describe, expect, it } from 'vitest';
import { displayWidth } from '../base/common/terminal-text';
import { renderTable } from './table';

describe('renderTable', () => {
  it('aligns columns under their headers', () => {
    const text = renderTable(
      [{ header: 'ID' }, { header: 'NAME' }],
      [
        ['a', 'first'],
        ['long-id', 'x'],
      ],
      {
        width: Infinity,
        colour: false,
      },
    );
    expect(text.split('\n')).toEqual(['ID       NAME', 'a        first', 'long-id  x']);
  });

  it('fits a width: cuts the widest cuttable columns with …, keeps the kept ones whole', () => {
    const id = 'abcdefghij012345';
    const rows = [[id, 'x'.repeat(60), 'active', 'y'.repeat(40)]];
    const text = renderTable(
      [{ header: 'ID', keep: true }, { header: 'SCOPE' }, { header: 'STATUS', keep: true }, { header: 'REASON' }],
      rows,
      { width: 80, colour: false },
    );
    for (const line of text.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(80);
    expect(text).toContain(id);
    expect(text).toContain('active');
    expect(text).toContain('…');
  });

  it('measures wide characters and escapes control characters in cells', () => {
    const text = renderTable(
      [{ header: 'K' }, { header: 'V' }],
      [
        ['漢字', 'a\nb\x1b[2J'],
        ['ab', 'c'],
      ],
      {
        width: Infinity,
        colour: false,
      },
    );
    expect(text.split('\n')).toEqual(['K     V', '漢字  a\\nb\\x1b[2J', 'ab    c']);
  });

  it('colours only when asked, without changing the layout', () => {
    const columns = [{ header: 'S', colour: (c: string) => (c === 'bad' ? '31' : undefined) }, { header: 'X' }];
    const plain = renderTable(columns, [['bad', 'x']], { width: Infinity, colour: false });
    const coloured = renderTable(columns, [['bad', 'x']], { width: Infinity, colour: true });
    expect(plain).not.toContain('\x1b');
    expect(coloured).toContain('\x1b[31mbad\x1b[0m');
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\x1b\[\d+m/g, '')).toBe(plain);
  });
});

describe('renderTable when even the narrowest layout is too wide', () => {
  it('drops the optional columns, lowest drop first, until it fits', () => {
    const columns = [
      { header: 'SEQ', keep: true, drop: 1 },
      { header: 'TIME', keep: true },
      { header: 'KEYS', drop: 2 },
      { header: 'REASON' },
    ];
    const rows = [['12', '2026-12-01T22:24:09Z', 'DATABASE_URL,REDIS_URL', 'r'.repeat(50)]];
    const at34 = renderTable(columns, rows, { width: 34, colour: false });
    expect(at34.split('\n')[0]).toBe('TIME                  REASON');
    for (const line of at34.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(34);
    const at40 = renderTable(columns, rows, { width: 40, colour: false });
    expect(at40.split('\n')[0]).toMatch(/^TIME +KEYS +REASON$/);
    for (const line of at40.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(40);
    expect(renderTable(columns, rows, { width: Infinity, colour: false }).split('\n')[0]).toMatch(/^SEQ +TIME/);
  });
});
