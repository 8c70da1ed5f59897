/**
 * The direct chunk reader against the formulas the fixtures were made from, and against h5wasm
 * on every layout: files PYME, PyTables and h5py write (test/fixtures/make_hdf5_layout_fixtures.py)
 * and ccdrift's own writer. Layouts it does not read must fall back to h5wasm with the same result.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { lastReadRoute, readPymeTable } from '../../../src/io/hdf5/pymeTable.js';
import { writeTable } from '../../../src/io/index.js';
import type { LocTable, NumericArray } from '../../../src/core/types.js';
import { fixturesDir, haveSharedFixtures, sharedFixture, sharedSkipReason } from '../../helpers/fixtures.js';

const dir = join(fixturesDir, 'hdf5', 'layouts');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
  rows: number;
  files: Record<string, { table: string; route: 'chunks' | 'h5wasm' }>;
};

/** The fixture's columns, as its script defines them. */
const FORMULAS: Record<string, (i: number) => number> = {
  x: (i) => Math.fround(i * 0.25),
  y: (i) => 1000 - i * 0.5,
  t: (i) => Math.floor(i / 7),
  big: (i) => 3_000_000_000 + i,
  n16: (i) => i % 65536,
  s8: (i) => (i % 256) - 128,
};

async function readWith(route: 'chunks' | 'h5wasm', path: string, table?: string): Promise<{ table: LocTable; route: string }> {
  if (route === 'h5wasm') process.env.CCDRIFT_HDF5_READER = 'h5wasm';
  else delete process.env.CCDRIFT_HDF5_READER;
  const t = await readPymeTable(path, { table });
  return { table: t, route: lastReadRoute };
}

function firstMismatch(a: NumericArray, b: NumericArray): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

afterEach(() => {
  delete process.env.CCDRIFT_HDF5_READER;
});

describe('direct chunk reader', () => {
  for (const [name, { table, route }] of Object.entries(expected.files)) {
    it(`${name}: ${route === 'chunks' ? 'read from its chunks' : 'falls back to h5wasm'}, every value as written`, async () => {
      const path = join(dir, name);
      const direct = await readWith('chunks', path, table);
      expect(direct.route.startsWith(route), direct.route).toBe(true);
      expect(direct.table.length).toBe(expected.rows);
      expect([...direct.table.columns.keys()]).toEqual(Object.keys(FORMULAS));
      for (const [col, f] of Object.entries(FORMULAS)) {
        const values = direct.table.columns.get(col)!;
        const want = Float64Array.from({ length: expected.rows }, (_, i) => f(i));
        expect(firstMismatch(Float64Array.from(values), want), `${col}`).toBe(-1);
      }
      expect(direct.table.dtypes).toEqual(
        new Map([
          ['x', 'f4'],
          ['y', 'f8'],
          ['t', 'i4'],
          ['big', 'i8'],
          ['n16', 'u2'],
          ['s8', 'i1'],
        ]),
      );
      // h5wasm gives the same arrays, of the same types.
      const lib = await readWith('h5wasm', path, table);
      for (const [col, values] of lib.table.columns) {
        expect(direct.table.columns.get(col)!.constructor).toBe(values.constructor);
        expect(firstMismatch(direct.table.columns.get(col)!, values), col).toBe(-1);
      }
    });
  }

  const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-chunks-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("reads ccdrift's own .hdf (superblock 2, compact links) from its chunks, as written", async () => {
    const n = 100_003;
    const columns = new Map<string, NumericArray>([
      ['x', Float32Array.from({ length: n }, (_, i) => (i * 7919) % 20000)],
      ['y', Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 1e4)],
      ['t', Int32Array.from({ length: n }, (_, i) => i >> 4)],
      ['sig', Uint16Array.from({ length: n }, (_, i) => i & 0xffff)],
    ]);
    const path = join(tmp, 'own.hdf');
    await writeTable(path, { length: n, columns, metadata: { 'voxelsize.x': 0.1, 'voxelsize.y': 0.1, 'voxelsize.units': 'um' } });
    const direct = await readWith('chunks', path);
    expect(direct.route).toBe('chunks');
    for (const [col, values] of columns) expect(firstMismatch(direct.table.columns.get(col)!, values), col).toBe(-1);
  });

  it.skipIf(!haveSharedFixtures)(
    `the real PYME .h5r (nested /FitResults) reads the same both ways${haveSharedFixtures ? '' : ` (${sharedSkipReason})`}`,
    async () => {
      const path = sharedFixture('pyme', '1_2_series_D.h5r');
      const direct = await readWith('chunks', path);
      const lib = await readWith('h5wasm', path);
      expect(direct.route).toBe('chunks');
      expect([...direct.table.columns.keys()]).toEqual([...lib.table.columns.keys()]);
      for (const [col, values] of lib.table.columns) expect(firstMismatch(direct.table.columns.get(col)!, values), col).toBe(-1);
    },
  );
});
