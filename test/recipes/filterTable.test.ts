import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import type { LocTable } from '../../src/core/types.js';
import { filterTable } from '../../src/recipes/modules/filterTable.js';

function table(): LocTable {
  return {
    length: 6,
    columns: new Map<string, Float64Array | Int32Array | Float32Array>([
      ['x', Float64Array.from([0, 1, 2, 3, 4, 5])],
      ['A', Float32Array.from([5, 6, 19999, 20000, NaN, 100])],
      ['t', Int32Array.from([10, 11, 12, 13, 14, 15])],
    ]),
    metadata: { 'voxelsize.x': 0.1 },
  };
}

describe('tablefilters.FilterTable', () => {
  it('keeps min < value < max, both ends excluded, NaN dropped; column types and metadata kept', () => {
    const input = table();
    const out = filterTable(input, { A: [5, 20000] });
    expect(out.length).toBe(3);
    expect([...out.columns.get('x')!]).toEqual([1, 2, 5]);
    expect(out.columns.get('t')).toBeInstanceOf(Int32Array);
    expect([...out.columns.get('t')!]).toEqual([11, 12, 15]);
    expect(out.columns.get('A')).toBeInstanceOf(Float32Array);
    expect(out.metadata).toEqual(input.metadata);
    expect(out.metadata, 'a copy: provenance added to the output does not reach the input').not.toBe(input.metadata);
  });

  it('every listed column must pass', () => {
    const out = filterTable(table(), { A: [0, 1e6], x: [1.5, 10] });
    expect([...out.columns.get('x')!]).toEqual([2, 3, 5]);
  });

  it('an unknown column is an error naming the available ones', () => {
    expect(() => filterTable(table(), { sig: [95, 200] })).toThrow(InputError);
    expect(() => filterTable(table(), { sig: [95, 200] })).toThrow("FilterTable: no column 'sig' in the table; available: x, A, t");
  });
});
