import { describe, expect, it } from 'vitest';
import { displayWidth, escapeControls, isTerminalSafe, padToWidth, truncateToWidth } from './terminal-text';

describe('escapeControls', () => {
  it('shows escape sequences, controls and bidi overrides escaped, never raw', () => {
    const hostile =
      '\x1b]0;pwned\x07\x1b[2J\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\\x1b]52;c;Y2FsYw==\x07a\rb\u202etxt.exe\u2066x\u2069\x9b1m';
    const shown = escapeControls(hostile);
    const raw = [...shown].filter((c) => {
      const cp = c.codePointAt(0) ?? 0;
      return (
        cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)
      );
    });
    expect(raw).toEqual([]);
    expect(shown).toBe(
      '\\x1b]0;pwned\\x07\\x1b[2J\\x1b]8;;http://evil\\x1b\\link\\x1b]8;;\\x1b\\\\x1b]52;c;Y2FsYw==\\x07a\\rb\\u202etxt.exe\\u2066x\\u2069\\x9b1m',
    );
    expect(isTerminalSafe(shown)).toBe(true);
    expect(isTerminalSafe(hostile)).toBe(false);
  });

  it('names newline, tab and CR, keeps what it is told to, leaves printable text alone', () => {
    expect(escapeControls('a\nb\tc\rd\0e')).toBe('a\\nb\\tc\\rd\\x00e');
    expect(escapeControls('a\nb\tc', '\n\t')).toBe('a\nb\tc');
    expect(escapeControls('C:\\dir — ünïcødé 漢字 😀')).toBe('C:\\dir — ünïcødé 漢字 😀');
  });
});

describe('displayWidth', () => {
  it('counts East Asian wide characters and emoji as 2, combining marks as 0', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('漢字')).toBe(4);
    expect(displayWidth('ｶﾞ')).toBe(2); // halfwidth katakana and its voiced mark
    expect(displayWidth('😀')).toBe(2);
    expect(displayWidth('👩‍💻')).toBe(2); // one ZWJ sequence
    expect(displayWidth('🇫🇷')).toBe(2);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('❤️')).toBe(2);
    expect(displayWidth('한국어')).toBe(6);
  });
});

describe('truncateToWidth and padToWidth', () => {
  it('cuts to a width in columns with …, never inside a character', () => {
    expect(truncateToWidth('abcdefgh', 5)).toBe('abcd…');
    expect(truncateToWidth('abc', 5)).toBe('abc');
    expect(truncateToWidth('漢字漢字', 5)).toBe('漢字…');
    expect(displayWidth(truncateToWidth('漢字漢字', 5))).toBe(5);
    expect(truncateToWidth('👩‍💻👩‍💻👩‍💻', 4)).toBe('👩‍💻…');
    expect(padToWidth('漢', 4)).toBe('漢  ');
  });
});
