// The byte-level pieces of the lease table in memory (lease-memory.ts): its columns, dictionaries,
// the hash of an id, token hashes decoded to their bytes, and the check of a JSON array of strings.

/** Float64 columns (in memory and in the table's files): non-negative integers, -1 standing for null in the nullable ones. */
export const NUMBER_FIELDS = [
  'issuedAt',
  'expiresAt',
  'ttlSeconds',
  'renewals',
  'renewedAt',
  'lastUsedAt',
  'endedAt',
  'epoch',
  'warnedFor',
  'uses',
] as const;
export type NumberField = (typeof NUMBER_FIELDS)[number];
export const NULLABLE_NUMBERS: ReadonlySet<NumberField> = new Set(['renewedAt', 'lastUsedAt', 'endedAt', 'warnedFor']);
/** Dictionary-encoded columns; -1 stands for null (endReason) or absent (by). */
export const DICT_FIELDS = ['project', 'environment', 'status', 'scope', 'endReason', 'by'] as const;
export type DictField = (typeof DICT_FIELDS)[number];

export const ID_BYTES = 16;
export const HASH_BYTES = 32;

/** A dictionary: each distinct value once, by index. */
export class Dict<T> {
  values: T[] = [];
  private index = new Map<string, number>();
  constructor(private readonly keyOf: (v: T) => string) {}

  intern(v: T): number {
    const key = this.keyOf(v);
    let at = this.index.get(key);
    if (at === undefined) {
      at = this.values.push(v) - 1;
      this.index.set(key, at);
    }
    return at;
  }
}

export type DictValue<F extends DictField> = F extends 'scope' ? readonly string[] : string;
export type Dicts = { [F in DictField]: Dict<DictValue<F>> };

export function newDicts(): Dicts {
  const text = (v: string) => v;
  return {
    project: new Dict<string>(text),
    environment: new Dict<string>(text),
    status: new Dict<string>(text),
    // Scopes are shared by every lease that has the same keys; frozen, so no holder changes them for all.
    scope: new Dict<readonly string[]>((v) => String(JSON.stringify(v))),
    endReason: new Dict<string>(text),
    by: new Dict<string>(text),
  };
}

// Ids are hashed four bytes (one little-endian word) at a time, then mixed (murmur3's finaliser),
// so the low bits the index uses depend on every byte. A 16-character id hashes the same as text
// (`hashText`) and as bytes (`hashBytes`); other text only has to agree with itself.

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The hash of an id's text (16 characters: as {@link hashBytes} of its bytes). */
export function hashText(s: string): number {
  let h = 0x811c9dc5;
  if (s.length === ID_BYTES) {
    for (let i = 0; i < ID_BYTES; i += 4) {
      const w =
        s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24);
      h = Math.imul(h ^ w, 0x01000193);
    }
    return mix(h);
  }
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix(h ^ s.length);
}

/** The hash of the 16 id bytes at `at`. */
export function hashBytes(b: Uint8Array, at: number): number {
  let h = 0x811c9dc5;
  for (let i = at; i < at + ID_BYTES; i += 4) {
    const w = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    h = Math.imul(h ^ w, 0x01000193);
  }
  return mix(h);
}

const HIGH = 0x80808080 | 0;

/**
 * {@link hashBytes} of the id at `at`, or -1 when one of its bytes is not printable ASCII
 * (0x21–0x7e), checked a word at a time in the same pass.
 */
export function printableIdHash(b: Uint8Array, at: number): number {
  let h = 0x811c9dc5;
  let bad = 0;
  for (let i = at; i < at + ID_BYTES; i += 4) {
    const w = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    // With every byte below 0x80 (first term), adding 0x5f sets a byte's top bit exactly when it is
    // at least 0x21, and adding 0x01 exactly when it is 0x7f; no carry crosses a byte.
    bad |= (w & HIGH) | (~(w + 0x5f5f5f5f) & HIGH) | ((w + 0x01010101) & HIGH);
    h = Math.imul(h ^ w, 0x01000193);
  }
  return bad !== 0 ? -1 : mix(h);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Each byte's base64url value, -1 for a byte that is not one. */
const B64_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE[B64.charCodeAt(i)] = i;
export const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;

/**
 * Decodes a 43-character base64url hash (`src[s..s+43)`) into `out[o..o+32)`; false when it is not
 * exactly the encoding of 32 bytes (then it is kept as text). Four characters (three bytes) at a time.
 */
export function decodeB64(src: Uint8Array, s: number, out: Uint8Array, o: number): boolean {
  let bad = 0;
  for (let g = 0; g < 10; g++, s += 4, o += 3) {
    const a = B64_VALUE[src[s]!]!;
    const b = B64_VALUE[src[s + 1]!]!;
    const c = B64_VALUE[src[s + 2]!]!;
    const d = B64_VALUE[src[s + 3]!]!;
    bad |= a | b | c | d;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o] = v >> 16;
    out[o + 1] = v >> 8;
    out[o + 2] = v;
  }
  // The last 3 characters carry 18 bits: 2 bytes, and 2 bits that must be zero (or the text is not canonical).
  const a = B64_VALUE[src[s]!]!;
  const b = B64_VALUE[src[s + 1]!]!;
  const c = B64_VALUE[src[s + 2]!]!;
  bad |= a | b | c;
  const v = (a << 12) | (b << 6) | c;
  out[o] = v >> 10;
  out[o + 1] = v >> 2;
  return bad >= 0 && (v & 3) === 0;
}

/** The characters of base64url, as bytes. */
const B64_BYTES = Buffer.from(B64, 'latin1');

/** Writes the 32 bytes `src[s..s+32)` as 43 base64url characters into `out[o..o+43)`: what {@link decodeB64} reads. */
export function encodeB64(src: Uint8Array, s: number, out: Uint8Array, o: number): void {
  for (let g = 0; g < 10; g++, s += 3, o += 4) {
    const v = (src[s]! << 16) | (src[s + 1]! << 8) | src[s + 2]!;
    out[o] = B64_BYTES[v >> 18]!;
    out[o + 1] = B64_BYTES[(v >> 12) & 63]!;
    out[o + 2] = B64_BYTES[(v >> 6) & 63]!;
    out[o + 3] = B64_BYTES[v & 63]!;
  }
  const v = (src[s]! << 8) | src[s + 1]!;
  out[o] = B64_BYTES[v >> 10]!;
  out[o + 1] = B64_BYTES[(v >> 4) & 63]!;
  out[o + 2] = B64_BYTES[(v << 2) & 63]!;
}

export function decodeHex(src: Uint8Array, s: number, out: Uint8Array, o: number): boolean {
  for (let i = 0; i < HASH_BYTES; i++) {
    const c1 = src[s + 2 * i]!;
    const c2 = src[s + 2 * i + 1]!;
    const hi = c1 < 128 ? HEX_VALUE[c1]! : -1;
    const lo = c2 < 128 ? HEX_VALUE[c2]! : -1;
    if (hi < 0 || lo < 0) return false;
    out[o + i] = (hi << 4) | lo;
  }
  return true;
}

/** A hash's characters, when all ASCII, for the decoders. */
export const scratch = new Uint8Array(64);
export function asciiInto(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return false;
    scratch[i] = c;
  }
  return true;
}

/** Whether `a[from..to)` are all integers from `min` up to 2^53 - 1 (a column's values as bella writes them). */
export function wholeNumbers(a: Float64Array, from: number, to: number, min: number): boolean {
  for (let i = from; i < to; i++) {
    const v = a[i]!;
    // NaN fails every comparison; ±Infinity fails the bounds.
    if (!(v >= min && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v)) return false;
  }
  return true;
}

export const isHexDigit = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
export const printable = (c: number) => c > 0x20 && c < 0x7f;

/**
 * Checks that `b` is a JSON array of exactly `count` strings, as JSON.stringify writes it (no
 * whitespace), and calls `each` with the bounds of each string's contents (between its quotes) and
 * whether it holds escapes. Every escape is checked, so JSON.parse of a string found here cannot fail.
 */
export function scanJsonStrings(
  b: Uint8Array,
  count: number,
  each: (i: number, start: number, length: number, escaped: boolean) => void,
): boolean {
  let p = 0;
  if (b[p++] !== 0x5b) return false;
  for (let i = 0; i < count; i++) {
    if (b[p++] !== 0x22) return false;
    const start = p;
    let escaped = false;
    for (;;) {
      if (p >= b.length) return false;
      const ch = b[p]!;
      if (ch === 0x22) break;
      if (ch < 0x20) return false;
      if (ch !== 0x5c) {
        p++;
        continue;
      }
      escaped = true;
      const e = b[p + 1];
      if (e === 0x75) {
        for (let k = 2; k < 6; k++) if (!isHexDigit(b[p + k] ?? 0)) return false;
        p += 6;
      } else if (e !== undefined && '"\\/bfnrt'.includes(String.fromCharCode(e))) p += 2;
      else return false;
    }
    each(i, start, p - start, escaped);
    p++;
    if (b[p++] !== (i === count - 1 ? 0x5d : 0x2c)) return false;
  }
  return p === b.length;
}
