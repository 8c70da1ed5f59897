import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NUMBER_BYTES, formatFloat32, writeFloat32, writeFloat64 } from '../../src/io/csvNumbers.js';

const SEED = 20261204;
const out = new Uint8Array(MAX_NUMBER_BYTES + 8);
const text = (n: number) => String.fromCharCode(...out.subarray(0, n));
const f64 = (v: number) => text(writeFloat64(out, 0, v));
const f32 = (v: number) => text(writeFloat32(out, 0, v));

/** Values that probe each branch: integers, ≤ 15-digit decimals, 17-digit values, edges. */
const EDGES = [
  0, -0, NaN, Infinity, -Infinity, 1, -1, 0.1, 0.5, 1e-6, 9.99e-7, 1e-7, 1e-300, 5e-324, 2.2250738585072014e-308,
  1.7976931348623157e308, 1e15, 1e15 + 0.5, 999999999999999.9, 2 ** 53, 2 ** 53 + 2, 2 ** 60, 1e21, 1e22, 123456789012345.6,
  0.000001234567890123, 100, 1234.5, 0.30000000000000004, 1 / 3, 2 / 3, 9.999999999999999, 99999.99999999999,
];

describe('writeFloat64 writes exactly String(v)', () => {
  it('on edge values', () => {
    for (const v of EDGES) {
      expect(f64(v), String(v)).toBe(String(v));
      expect(f64(-v), String(-v)).toBe(String(-v));
    }
  });

  it('on random doubles of every bit pattern, and on short decimals', () => {
    const anyDouble = fc.double({ noDefaultInfinity: false, noNaN: false });
    const shortDecimal = fc
      .tuple(fc.integer({ min: -999999999, max: 999999999 }), fc.integer({ min: 0, max: 16 }))
      .map(([m, k]) => m / 10 ** k);
    const coordinate = fc.double({ min: -1e5, max: 1e5, noNaN: true });
    // Decimals of 1 … 17 significant digits, 1e-7 … 1e16: every digit count the search meets.
    const digitsDecimal = fc
      .tuple(fc.double({ min: 1e-7, max: 1e16, noNaN: true }), fc.integer({ min: 1, max: 17 }))
      .map(([v, p]) => +v.toPrecision(p));
    fc.assert(
      fc.property(fc.oneof(anyDouble, shortDecimal, coordinate, digitsDecimal), (v) => f64(v) === String(v)),
      { seed: SEED, numRuns: 100000 },
    );
  });

  it('writes text that parses back to the same bits', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (v) => Object.is(Number(f64(v)), v === 0 ? 0 : v)),
      { seed: SEED, numRuns: 50000 },
    );
  });
});

describe('writeFloat32 writes exactly formatFloat32(v)', () => {
  it('on edge values', () => {
    for (const v of [...EDGES, 1e-4, 9.9999e-5, 999999.9, 1e6, 16777216, 3.4028234663852886e38].map(Math.fround)) {
      expect(f32(v), String(v)).toBe(formatFloat32(v));
      expect(f32(-v), String(-v)).toBe(formatFloat32(-v));
    }
  });

  it('on random float32 values, and the text parses back to the same float32', () => {
    const anyFloat = fc.float({ noNaN: false });
    const inRange = fc.float({ min: Math.fround(1e-4), max: Math.fround(1e6), noNaN: true });
    fc.assert(
      fc.property(fc.oneof(anyFloat, inRange), (v) => {
        const s = f32(v);
        return s === formatFloat32(v) && (Number.isNaN(v) || Object.is(Math.fround(Number(s)), v === 0 ? 0 : v));
      }),
      { seed: SEED, numRuns: 100000 },
    );
  });
});
