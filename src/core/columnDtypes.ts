/**
 * Storage dtypes of table columns (LocTable.dtypes): what a column is written as, and the
 * dtype of the drift columns a correction adds.
 */
import type { ColumnDtype, LocTable, NumericArray } from './types.js';

/** The dtype a typed array stores by itself (a Float64Array is float64 unless the table says otherwise). */
export function arrayDtype(column: NumericArray): ColumnDtype {
  if (column instanceof Float64Array) return 'f8';
  if (column instanceof Float32Array) return 'f4';
  if (column instanceof Int8Array) return 'i1';
  if (column instanceof Uint8Array) return 'u1';
  if (column instanceof Int16Array) return 'i2';
  if (column instanceof Uint16Array) return 'u2';
  if (column instanceof Int32Array) return 'i4';
  return 'u4';
}

/** The dtype column `name` of `table` is stored as: the table's record, else its array's type. */
export function columnStorageDtype(table: Pick<LocTable, 'columns' | 'dtypes'>, name: string): ColumnDtype {
  const recorded = table.dtypes?.get(name);
  if (recorded) return recorded;
  const column = table.columns.get(name);
  if (!column) throw new RangeError(`no column '${name}' in the table`);
  return arrayDtype(column);
}

/**
 * The dtype of the drift columns dx, dy, dz a correction adds: float32 when the table's x is
 * stored as float32 (the correction is no more precise than the coordinates it corrects),
 * else float64.
 */
export function driftColumnDtype(table: Pick<LocTable, 'columns' | 'dtypes'>): ColumnDtype {
  return table.columns.has('x') && columnStorageDtype(table, 'x') === 'f4' ? 'f4' : 'f8';
}

/**
 * The dtypes of `columns`, a derived table's columns: `added[name]` when given, else the storage
 * dtype of the column of `source` it came from (same name, or `renamed[name]`) — even when its
 * values now live in another typed array (corrected x of a float32 table stays float32 on
 * disk). A new column with neither is stored as its typed array's type.
 */
export function withColumnDtypes(
  source: Pick<LocTable, 'columns' | 'dtypes'>,
  columns: Map<string, NumericArray>,
  added: Record<string, ColumnDtype> = {},
  renamed: Record<string, string> = {},
): Map<string, ColumnDtype> {
  const out = new Map<string, ColumnDtype>();
  for (const name of columns.keys()) {
    const from = renamed[name] ?? name;
    const dtype = added[name] ?? (source.columns.has(from) ? columnStorageDtype(source, from) : undefined);
    if (dtype) out.set(name, dtype);
  }
  return out;
}

/**
 * A table made from `source` with new `columns` (and row count): everything that describes the
 * source — metadata (copied) and its storage kinds, convention, history, events — travels with it, and
 * each column keeps its storage dtype (see withColumnDtypes for `added` and `renamed`). Every
 * step that derives a table goes through here, so no descriptive field is dropped on the way.
 */
export function deriveTable(
  source: LocTable,
  columns: Map<string, NumericArray>,
  { length = source.length, added = {}, renamed = {} }: { length?: number; added?: Record<string, ColumnDtype>; renamed?: Record<string, string> } = {},
): LocTable {
  // A shallow copy of the metadata: whoever adds provenance to the derived table does not change the source's.
  return { ...source, length, columns, metadata: { ...source.metadata }, dtypes: withColumnDtypes(source, columns, added, renamed) };
}
