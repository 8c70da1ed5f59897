import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocTable } from '../../src/core/types.js';
import { readCsvTable, writeCsvTable } from '../../src/io/csv.js';
import { MAX_NUMBER_BYTES, formatFloat32, writeFloat32, writeFloat64 } from '../../src/io/csvNumbers.js';

const SEED = 20261204;
const out = new Uint8Array(MAX_NUMBER_BYTES + 8);
const text = (n: number) => String.fromCharCode(...out.subarray(0, n));
const f64 = (v: number) => text(writeFloat64(out, 0, v));
const f32 = (v: number) => text(writeFloat32(out, 0, v));

/** Values that probe each branch: integers, ≤ 15-digit decimals, 17-digit values, edges. */
const EDGES = [
  0,
  -0,
  NaN,
  Infinity,
  -Infinity,
  1,
  -1,
  0.1,
  0.5,
  1e-6,
  9.99e-7,
  1e-7,
  1e-300,
  5e-324,
  2.2250738585072014e-308,
  1.7976931348623157e308,
  1e15,
  1e15 + 0.5,
  999999999999999.9,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 60,
  1e21,
  1e22,
  123456789012345.6,
  0.000001234567890123,
  100,
  1234.5,
  0.30000000000000004,
  1 / 3,
  2 / 3,
  9.999999999999999,
  99999.99999999999,
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
    const shortDecimal = fc.tuple(fc.integer({ min: -999999999, max: 999999999 }), fc.integer({ min: 0, max: 16 })).map(([m, k]) => m / 10 ** k);
    const coordinate = fc.double({ min: -1e5, max: 1e5, noNaN: true });
    // Decimals of 1 … 17 significant digits, 1e-7 … 1e16: every digit count the search meets.
    const digitsDecimal = fc.tuple(fc.double({ min: 1e-7, max: 1e16, noNaN: true }), fc.integer({ min: 1, max: 17 })).map(([v, p]) => +v.toPrecision(p));
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

describe('CSV files: numbers through writeCsvTable and readCsvTable', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-csvnum-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('float64 and float32 columns come back bit for bit (subnormals, 1e-300, 1e21, 2^60, NaN, ±Infinity)', async () => {
    const n = 20000;
    const doubles = fc.sample(fc.double({ noDefaultInfinity: false, noNaN: false }), { seed: SEED, numRuns: n });
    const specials = [5e-324, 2.2250738585072014e-308, 1e-300, 1e21, 2 ** 60, 2 ** 53 + 2, -1e-7, NaN, Infinity, -Infinity, 0.1, 1 / 3];
    specials.forEach((v, i) => (doubles[i] = v));
    const floats = Float32Array.from(fc.sample(fc.float({ noNaN: false }), { seed: SEED + 1, numRuns: n }));
    const x = Float64Array.from(fc.sample(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { seed: SEED + 2, numRuns: n }));
    const table: LocTable = {
      length: n,
      columns: new Map<string, Float64Array | Float32Array | Int32Array>([
        ['x', x],
        ['y', Float64Array.from(x, (v) => v / 7)],
        ['t', Int32Array.from({ length: n }, (_, i) => i * 3)],
        ['value', Float64Array.from(doubles)],
        ['single', floats],
      ]),
      metadata: {},
    };
    const path = join(tmp, 'roundtrip.csv');
    await writeCsvTable(path, table);
    const back = await readCsvTable(path, { chunkBytes: 4096 });
    expect(back.length).toBe(n);
    for (const [name, data] of table.columns) {
      const got = back.columns.get(name)!;
      // A float32 column is written as the shortest text for its float32, read back as float64.
      const read = data instanceof Float32Array ? (v: number) => Math.fround(v) : (v: number) => v;
      for (let i = 0; i < n; i++) {
        // Text has no negative zero: String(-0) is "0", as before.
        const want = Object.is(data[i], -0) ? 0 : data[i];
        if (!Object.is(read(got[i]), want)) expect({ name, i, got: got[i] }).toEqual({ name, i, got: want });
      }
    }
  });

  it('parses random decimal text to exactly Number(text)', async () => {
    const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
    const decimal = fc
      .tuple(fc.constantFrom('', '-', '+'), digits(1, 20), fc.option(digits(0, 20)), fc.option(fc.integer({ min: -330, max: 310 })))
      .map(([sign, int, frac, exp]) => `${sign}${int}${frac === null ? '' : `.${frac}`}${exp === null ? '' : `e${exp}`}`);
    const texts = fc.sample(decimal, { seed: SEED, numRuns: 20000 });
    const path = join(tmp, 'decimals.csv');
    writeFileSync(path, 'x,y,t,value\n' + texts.map((s, i) => `1,2,${i},${s}`).join('\n') + '\n');
    const values = (await readCsvTable(path, { chunkBytes: 1000 })).columns.get('value')!;
    texts.forEach((s, i) => {
      if (!Object.is(values[i], Number(s))) expect({ text: s, got: values[i] }).toEqual({ text: s, got: Number(s) });
    });
  });
});
