/**
 * The Bloom filters of a segment index: whether a segment may hold a lease, project or
 * environment, so segments that cannot are skipped without reading their rows. Values are the
 * 32-bit hashes of {@link hash32}.
 */
export class Bloom {
  constructor(
    /** A power of two. */
    readonly bits: number,
    readonly probes: number,
    readonly words: Uint32Array = new Uint32Array(bits / 32),
  ) {}

  /**
   * A filter for `keys` distinct values with about 1 false positive in 500 lookups or fewer:
   * 10–20 bits per value (the size is rounded up to a power of two) and 7 probes.
   */
  static forKeys(keys: number): Bloom {
    let bits = 1024;
    while (bits < keys * 10) bits *= 2;
    return new Bloom(bits, 7);
  }

  add(h: number): void {
    const mask = this.bits - 1;
    let a = mix(h);
    const b = mix(h ^ 0x5bd1e995) | 1;
    for (let i = 0; i < this.probes; i++) {
      const at = a & mask;
      this.words[at >>> 5]! |= 1 << (at & 31);
      a = (a + b) | 0;
    }
  }

  has(h: number): boolean {
    const mask = this.bits - 1;
    let a = mix(h);
    const b = mix(h ^ 0x5bd1e995) | 1;
    for (let i = 0; i < this.probes; i++) {
      const at = a & mask;
      if ((this.words[at >>> 5]! & (1 << (at & 31))) === 0) return false;
      a = (a + b) | 0;
    }
    return true;
  }

  bytes(): Buffer {
    return Buffer.from(this.words.buffer, this.words.byteOffset, this.words.byteLength);
  }
}

/** The 32-bit finaliser of MurmurHash3: spreads every bit of `h` over all bits. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The two-probe filter of index format 1 (fixed sizes, read back from indexes written before
 * format 2): probe one is the hash's low bits, probe two the top bits of a multiplied hash.
 */
export class LegacyBloom extends Bloom {
  constructor(bits: number, words?: Uint32Array) {
    super(bits, 2, words);
  }

  override add(h: number): void {
    for (const at of this.positions(h)) this.words[at >>> 5]! |= 1 << (at & 31);
  }

  override has(h: number): boolean {
    return this.positions(h).every((at) => (this.words[at >>> 5]! & (1 << (at & 31))) !== 0);
  }

  private positions(h: number): [number, number] {
    return [h & (this.bits - 1), Math.imul(h, 0x9e3779b1) >>> (32 - Math.log2(this.bits))];
  }
}
