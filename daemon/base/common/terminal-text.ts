/**
 * Text from users (reasons, names, keys, values) made safe for a terminal, and measured the way a
 * terminal draws it. Pure: no Node or DOM imports, so every layer (the renderer too) can use it.
 */

/**
 * Characters never written raw: C0 controls, DEL and C1 controls (ESC starts CSI/OSC sequences
 * that clear the screen, set the window title, write the clipboard (OSC 52) or hide links
 * (OSC 8); `\r` overwrites a line), bidi embeddings, overrides and isolates (text that reads
 * differently from what it is), and the line and paragraph separators some terminals break on.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const UNSAFE_ONE = new RegExp(UNSAFE.source);

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The escaped form of one unsafe character: `\n`, `\x1b`, `\u202e`. */
function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character, escape sequence introducer and bidi control shown
 * escaped (`\x1b`, `\n`, `\u202e`) instead of raw; characters in `keep` (e.g. `'\n'`) stay.
 * Printable text, backslashes included, is left as it is.
 */
export function escapeControls(text: string, keep = ''): string {
  return text.replace(UNSAFE, (ch) => (keep.includes(ch) ? ch : escapeChar(ch)));
}

/** True when `text` has nothing {@link escapeControls} would change. */
export function isTerminalSafe(text: string): boolean {
  return !UNSAFE_ONE.test(text);
}

// East Asian Wide and Fullwidth blocks (Unicode EastAsianWidth W/F), as [first, last] pairs.
const WIDE: ReadonlyArray<readonly [number, number]> = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x17000, 0x18cff],
  [0x1b000, 0x1b2ff],
  [0x1f200, 0x1f2ff],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

function isWide(cp: number): boolean {
  let lo = 0;
  let hi = WIDE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [first, last] = WIDE[mid] as readonly [number, number];
    if (cp < first) hi = mid - 1;
    else if (cp > last) lo = mid + 1;
    else return true;
  }
  return false;
}

const EMOJI = /\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F|\p{Regional_Indicator}/u;
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}\u1160-\u11ff]/u;

/** Columns one code point takes: 0 (combining, format), 1, or 2 (East Asian wide). */
function codePointWidth(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1;
  if (ZERO_WIDTH.test(ch)) return 0;
  return isWide(cp) ? 2 : 1;
}

/**
 * Columns one grapheme (a user-perceived character) takes. An emoji sequence (ZWJ, skin tone,
 * flag, VS16) is drawn as one wide glyph; anything else as terminals do, code point by code
 * point (so a halfwidth katakana and its separate voiced mark take two).
 */
function graphemeWidth(grapheme: string): number {
  if (EMOJI.test(grapheme)) return 2;
  let width = 0;
  for (const ch of grapheme) width += codePointWidth(ch);
  return width;
}

let segmenter: Intl.Segmenter | undefined;

/** The graphemes of `text` (created lazily: most text is ASCII and never needs it). */
function graphemes(text: string): string[] {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

// Printable ASCII: one column per character, no segmentation needed.
const ASCII = /^[\x20-\x7e]*$/;

/** How many terminal columns `text` takes: East Asian wide characters and emoji count 2, combining marks 0. */
export function displayWidth(text: string): number {
  if (ASCII.test(text)) return text.length;
  let width = 0;
  for (const g of graphemes(text)) width += graphemeWidth(g);
  return width;
}

/** `text` cut to at most `width` columns, ending in `…` when cut; never splits a character. */
export function truncateToWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  if (ASCII.test(text)) return `${text.slice(0, width - 1)}…`;
  let out = '';
  let used = 0;
  for (const g of graphemes(text)) {
    const w = graphemeWidth(g);
    if (used + w > width - 1) break;
    out += g;
    used += w;
  }
  return `${out}…`;
}

/** `text` padded with spaces on the right to `width` columns. */
export function padToWidth(text: string, width: number): string {
  const missing = width - displayWidth(text);
  return missing > 0 ? text + ' '.repeat(missing) : text;
}
