import { describe, expect, it } from 'vitest';
import { arrayDtype, columnStorageDtype, driftColumnDtype } from '../../src/core/columnDtypes.js';
import { applyDriftToTable } from '../../src/core/drift/applyDriftToTable.js';
import { createDriftInterpolator } from '../../src/core/drift/driftInterpolator.js';
import type { ColumnDtype, LocTable, NumericArray } from '../../src/core/types.js';
import { filterTable } from '../../src/recipes/modules/filterTable.js';
import { convertColumns } from '../../src/io/columnConventions.js';

const N = 50;
const drift = createDriftInterpolator(
  [{ t: Float64Array.of(0, 25, 49), x: Float64Array.of(0, 3.25, 7.5), y: Float64Array.of(0, -1, 2), z: Float64Array.of(0, 0, 0) }],
  { degree: 1, smoothing: 0 },
);

function table(x: NumericArray, extra: [string, NumericArray, ColumnDtype?][] = []): LocTable {
  const columns = new Map<string, NumericArray>([
    ['x', x],
    ['y', Float32Array.from({ length: N }, (_, i) => 100 + i)],
    ['t', Int32Array.from({ length: N }, (_, i) => i)],
  ]);
  const dtypes = new Map<string, ColumnDtype>();
  for (const [name, values, dtype] of extra) {
    columns.set(name, values);
    if (dtype) dtypes.set(name, dtype);
  }
  return { length: N, columns, metadata: {}, dtypes };
}

describe('column storage dtypes travel with derived tables', () => {
  it('a typed array is its own dtype unless the table records another', () => {
    expect(arrayDtype(new Uint16Array(1))).toBe('u2');
    const t = table(new Float32Array(N), [['id', new Float64Array(N), 'i8']]);
    expect(columnStorageDtype(t, 'id')).toBe('i8');
    expect(columnStorageDtype(t, 'x')).toBe('f4');
    expect(() => columnStorageDtype(t, 'nope')).toThrow(/no column 'nope'/);
  });

  it('a correction keeps x, y float32 (values float64 until written) and adds float32 dx, dy, dz', () => {
    const src = table(
      Float32Array.from({ length: N }, (_, i) => 1000.5 + i),
      [['id', Float64Array.from({ length: N }, (_, i) => 2 ** 40 + i), 'i8']],
    );
    const out = applyDriftToTable(src, drift);
    expect(out.columns.get('x')).toBeInstanceOf(Float64Array);
    for (const [name, dtype] of [
      ['x', 'f4'],
      ['y', 'f4'],
      ['t', 'i4'],
      ['id', 'i8'],
      ['dx', 'f4'],
      ['dy', 'f4'],
      ['dz', 'f4'],
    ]) {
      expect(columnStorageDtype(out, name), name).toBe(dtype);
    }
    // A second correction: still float32, and the input table's record is untouched.
    const again = applyDriftToTable(out, drift);
    expect(columnStorageDtype(again, 'x')).toBe('f4');
    expect(columnStorageDtype(again, 'dx')).toBe('f4');
    expect(src.dtypes!.has('dx')).toBe(false);
  });

  it('float64 x gives float64 dx; dx already in the table keeps its own dtype', () => {
    expect(driftColumnDtype(table(new Float64Array(N)))).toBe('f8');
    const out = applyDriftToTable(table(new Float64Array(N)), drift);
    expect(columnStorageDtype(out, 'dx')).toBe('f8');
    const withDx = table(new Float32Array(N), [['dx', new Float64Array(N), 'f8']]);
    expect(columnStorageDtype(applyDriftToTable(withDx, drift), 'dx')).toBe('f8');
  });

  it("filtering rows and converting column names keep the kept columns' dtypes", () => {
    const src = table(
      Float32Array.from({ length: N }, (_, i) => i),
      [
        ['id', Float64Array.from({ length: N }, (_, i) => 2 ** 33 + i), 'i8'],
        ['error_x', new Float32Array(N).fill(10)],
      ],
    );
    const kept = filterTable(src, { x: [9.5, 20.5] });
    expect(kept.length).toBe(11);
    expect(columnStorageDtype(kept, 'id')).toBe('i8');
    expect(kept.columns.get('id')![0]).toBe(2 ** 33 + 10);
    const picasso = convertColumns(src, 'pyme', 'picasso', { targetNm: 100 });
    expect(picasso.columns.has('lpx')).toBe(true);
    expect(columnStorageDtype(picasso, 'id')).toBe('i8');
  });
});
