/** The per-table deflate strategy: the smaller of zlib's run-length and default strategies on the first chunk. */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { adaptiveDeflate, deflateChunk, Z_RLE } from '../../../src/io/hdf5/deflateChunk.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Byte planes as a shuffled float table has them: long runs, then noise. */
function runsAndNoise(n: number, seed: number): Uint8Array {
  const r = lcg(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = i < n / 2 ? (Math.floor(i / 4096) * 7) & 0xff : Math.floor(r() * 256);
  return b;
}

/** Repeated multi-byte words (what distance > 1 matches catch and runs do not). */
function repeatedWords(n: number, seed: number): Uint8Array {
  const r = lcg(seed);
  const words = Array.from({ length: 16 }, () => Array.from({ length: 8 }, () => Math.floor(r() * 256)));
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 8) b.set(words[Math.floor(r() * 16)].slice(0, Math.min(8, n - i)), i);
  return b;
}

describe('adaptiveDeflate', () => {
  for (const [name, make, expected] of [
    ['runs and noise', runsAndNoise, 'rle'],
    ['repeated words', repeatedWords, 'default'],
  ] as const) {
    it(`${name}: keeps the smaller strategy (${expected}) for the whole table, and every stream inflates back`, async () => {
      const chunks = [make(1 << 18, 1), make(1 << 18, 2), make(1 << 18, 3)];
      const deflate = adaptiveDeflate();
      const out = await Promise.all(chunks.map((c) => deflate(c, 2)));
      out.forEach((o, i) => expect(Buffer.compare(inflateSync(o), Buffer.from(chunks[i]))).toBe(0));
      const rle = await Promise.all(chunks.map((c) => deflateChunk(c, 2, Z_RLE)));
      const dflt = await Promise.all(chunks.map((c) => deflateChunk(c, 2)));
      const want = expected === 'rle' ? rle : dflt;
      expect(rle[0].length === dflt[0].length).toBe(false);
      expect(out.map((o) => o.length)).toEqual(want.map((o) => o.length));
    });
  }
});
