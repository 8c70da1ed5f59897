import { z } from 'zod';
import { InputError } from '../../core/errors.js';
import type { LocTable, NumericArray } from '../../core/types.js';
import { deriveTable } from '../../core/columnDtypes.js';
import { defineModule } from '../declare.js';

/** Column name → open interval (min, max). */
export type TableFilters = Record<string, [number, number]>;

/**
 * Rows with min < value < max for every listed column (strict, as PYME's FilterTable; NaN
 * fails every test). Columns keep their types; the metadata object is shared with the input.
 */
export function filterTable(table: LocTable, filters: TableFilters): LocTable {
  const names = Object.keys(filters);
  const missing = names.filter((n) => !table.columns.has(n));
  if (missing.length > 0) {
    throw new InputError(`FilterTable: no column ${missing.map((m) => `'${m}'`).join(', ')} in the table; available: ${[...table.columns.keys()].join(', ')}`);
  }
  const keep = new Uint8Array(table.length).fill(1);
  for (const n of names) {
    const [lo, hi] = filters[n];
    const col = table.columns.get(n)!;
    for (let i = 0; i < table.length; i++) if (!(col[i] > lo && col[i] < hi)) keep[i] = 0;
  }
  let count = 0;
  for (let i = 0; i < keep.length; i++) count += keep[i];
  const columns = new Map<string, NumericArray>();
  for (const [name, col] of table.columns) {
    const out = new (col.constructor as new (n: number) => NumericArray)(count);
    for (let i = 0, k = 0; i < table.length; i++) if (keep[i]) out[k++] = col[i];
    columns.set(name, out);
  }
  // The metadata object travels as it is: format writers keep per-file state keyed on it.
  return deriveTable(table, columns, { length: count });
}

/** PYME's `tablefilters.FilterTable`. */
export const filterTableModule = defineModule({
  name: 'tablefilters.FilterTable',
  summary: 'Keep the rows with min < value < max for every listed column (PYME built-in).',
  inputs: { inputName: { kind: 'table', default: 'Localizations', description: 'table to filter' } },
  outputs: { outputName: { kind: 'table', default: 'filtered_localizations', description: 'the rows that pass every filter' } },
  params: {
    filters: {
      schema: z.record(
        z.string(),
        z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo < hi, { message: 'expected [min, max] with min < max' }),
      ),
      default: {},
      unit: 'column units',
      description: 'column → [min, max]: keep rows with min < value < max (both ends excluded) for every listed column',
    },
  },
  async run(_ctx, inputs, params) {
    const table = inputs.inputName;
    return { outputName: filterTable(table, params.filters) };
  },
});
