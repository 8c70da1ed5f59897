/**
 * PYME localization tables (`.hdf`, written by PyTables) and analysis results (`.h5r`,
 * `/FitResults` with nested records), read and written in blocks of rows.
 */
import type { ColumnDtype, LocTable, Metadata, MetaValue, NumericArray, ProgressReporter } from '../../core/types.js';
import { columnStorageDtype } from '../../core/columnDtypes.js';
import { InputError, UsageError } from '../../core/errors.js';
import { extensionOf, type TableFormat, type TableReadOptions, type TableWriteOptions } from '../formats.js';
import { readMetadataTreeWithKinds, writeMetadataTree, writeNumberAttribute, writePyTablesGroupAttrs, writeSystemAttribute } from './attributes.js';
import {
  compoundLeaves,
  readCompoundColumns,
  writeCompoundColumns,
  type CompoundLeaf,
  type OutputField,
  type TypeMetadata,
} from './compoundTable.js';
import { H5T, openForReading, openForWriting, withFile, type H5File, type H5Module } from './h5Library.js';
import { toConvention } from '../columnConventions.js';
import { readEvents, writeEvents } from './events.js';

/** zlib level of written tables: 1 compresses nearly as well as PyTables' 5 on float columns, several times faster. */
const DEFLATE_LEVEL = 1;

/** SPEC §2: how `/FitResults` fields of a `.h5r` become table columns; other fields are flattened with '_'. */
export const H5R_COLUMN_NAMES: Readonly<Record<string, string>> = {
  tIndex: 't',
  'fitResults.x0': 'x',
  'fitResults.y0': 'y',
  'fitResults.z0': 'z',
  'fitResults.A': 'A',
  'fitResults.sigma': 'sig',
  'fitError.x0': 'error_x',
  'fitError.y0': 'error_y',
  'fitResults.background': 'bg',
};

/** A 1-D compound dataset (a PyTables Table) in a file. */
export interface TableInfo {
  /** Absolute path, e.g. '/Localizations'. */
  path: string;
  rows: number;
  type: TypeMetadata;
  chunkRows: number | null;
}

/** Every 1-D compound dataset in the file (the PyTables tables), and every other dataset's path. */
export function listTables(module: H5Module, file: H5File): { tables: TableInfo[]; others: string[] } {
  const tables: TableInfo[] = [];
  const others: string[] = [];
  for (const name of module.get_names(file.file_id, '/', true)) {
    const path = `/${name}`;
    if (module.get_type(file.file_id, path) !== module.H5G_DATASET) continue;
    const meta = module.get_dataset_metadata(file.file_id, path) as unknown as TypeMetadata & {
      shape: number[] | null;
      chunks: number[] | null;
    };
    if (meta.type === H5T.COMPOUND && meta.shape && meta.shape.length === 1) {
      tables.push({ path, rows: meta.shape[0], type: meta, chunkRows: meta.chunks ? meta.chunks[0] : null });
    } else others.push(path);
  }
  return { tables, others };
}

/** Pick the table to read: the `table` option, else `/Localizations`, `/FitResults`, or the only one. */
export function chooseTable(path: string, tables: TableInfo[], others: string[], wanted: string | undefined): TableInfo {
  const names = tables.map((t) => t.path.slice(1));
  if (wanted !== undefined) {
    const want = wanted.replace(/^\//, '');
    const found = tables.find((t) => t.path.slice(1) === want);
    if (!found) {
      throw new InputError(`${path}: no table '${want}'; tables in the file: ${names.join(', ') || '(none)'}`);
    }
    return found;
  }
  for (const preferred of ['/Localizations', '/FitResults']) {
    const t = tables.find((x) => x.path === preferred);
    if (t) return t;
  }
  if (others.includes('/ImageData')) {
    throw new InputError(`${path}: this is a PYME image stack (/ImageData), not a localization table; use \`ccdrift images\``);
  }
  // PYME's event log is a table but never the localizations.
  const candidates = tables.filter((t) => t.path !== '/Events');
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) {
    throw new InputError(
      `${path}: no localization table found (expected a PyTables table such as /Localizations or /FitResults); ` +
        `datasets in the file: ${[...names, ...others].join(', ') || '(none)'}`,
    );
  }
  throw new InputError(
    `${path}: several tables (${candidates.map((t) => t.path.slice(1)).join(', ')}); choose one with --table NAME`,
  );
}

/** Column name of a (possibly nested) field: SPEC's .h5r names, else the path joined with '_'. */
function columnName(leaf: CompoundLeaf, nested: boolean): string {
  const dotted = leaf.path.join('.');
  if (nested && H5R_COLUMN_NAMES[dotted]) return H5R_COLUMN_NAMES[dotted];
  return leaf.path.join('_');
}

/** Throw an InputError unless the table has x, y and t. */
export function requireXYT(path: string, columns: Map<string, NumericArray>, nonNumeric: ReadonlyMap<string, string> = new Map()): void {
  const missing = ['x', 'y', 't'].filter((c) => !columns.has(c));
  const wrongType = missing.find((c) => nonNumeric.has(c) || (c === 't' && nonNumeric.has('frame')));
  if (wrongType) {
    const name = nonNumeric.has(wrongType) ? wrongType : 'frame';
    throw new InputError(`${path}: column ${name} is ${nonNumeric.get(name)}, expected numbers (${wrongType === 't' ? 'frames' : 'nm'}); write it as a numeric field`);
  }
  if (missing.length > 0) {
    throw new InputError(
      `${path}: the table has no column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
        `(localizations need x, y in nm and t in frames); columns present: ${[...columns.keys()].join(', ') || '(none)'}`,
    );
  }
}

/** Read the table's columns (all numeric fields) in blocks. */
export function readTableColumns(
  module: H5Module,
  file: H5File,
  table: TableInfo,
  progress?: ProgressReporter,
): { columns: Map<string, NumericArray>; dtypes: Map<string, ColumnDtype>; skipped: string[]; skippedKinds: Map<string, string> } {
  const { leaves, skipped, skippedKinds } = compoundLeaves(table.type);
  const nested = leaves.some((l) => l.path.length > 1);
  progress?.start?.('reading', table.rows);
  const data = readCompoundColumns(module, file.file_id, table.path, leaves, table.type.size, table.rows, table.chunkRows, (done) => progress?.update?.(done));
  progress?.stop?.();
  const columns = new Map<string, NumericArray>();
  const dtypes = new Map<string, ColumnDtype>();
  leaves.forEach((leaf, i) => {
    columns.set(columnName(leaf, nested), data[i]);
    dtypes.set(columnName(leaf, nested), leaf.dtype);
  });
  if (!columns.has('t') && columns.has('tIndex')) {
    columns.set('t', columns.get('tIndex')!);
    dtypes.set('t', dtypes.get('tIndex')!);
    columns.delete('tIndex');
    dtypes.delete('tIndex');
  }
  return { columns, dtypes, skipped, skippedKinds };
}

/** Read a PYME `.hdf` / `.h5r` localization table (see SPEC §2). */
export async function readPymeTable(path: string, options: TableReadOptions = {}): Promise<LocTable> {
  return withFile(await openForReading(path), path, (module, file) => {
    const { tables, others } = listTables(module, file);
    const table = chooseTable(path, tables, others, options.table);
    const { columns, skippedKinds, dtypes } = readTableColumns(module, file, table, options.progress);
    if (table.path === '/locs' && columns.has('frame') && !columns.has('t')) {
      throw new InputError(
        `${path}: this looks like a Picasso file (dataset 'locs', x/y in camera pixels); ` +
          `give it the .hdf5 extension and keep its .yaml sidecar beside it`,
      );
    }
    requireXYT(path, columns, skippedKinds);
    const { metadata, kinds: metadataKinds } = readMetadataTreeWithKinds(module, file);
    const events = readEvents(module, file, path);
    return { length: table.rows, columns, metadata, dtypes, metadataKinds, convention: 'pyme', ...(events && { events }) };
  });
}

/** Metadata with provenance entries added under `ccdrift.` keys. */
function withProvenance(metadata: Metadata, provenance: Record<string, unknown> | undefined): Metadata {
  if (!provenance) return metadata;
  const out: Metadata = { ...metadata };
  for (const [k, v] of Object.entries(provenance)) out[`ccdrift.${k}`] = JSON.parse(JSON.stringify(v ?? null)) as MetaValue;
  return out;
}

/** Write `table` as a PyTables table `/Localizations` plus `/MetaData`, as PYME itself saves localizations. */
export async function writePymeTable(
  temporaryPaths: string[],
  source: LocTable,
  options: TableWriteOptions = {},
  target = temporaryPaths[0],
): Promise<void> {
  if (extensionOf(target) === '.h5r') {
    throw new UsageError(
      `${target}: .h5r files are PYME's raw analysis results and are not written; use the .hdf extension for localizations`,
    );
  }
  const file = temporaryPaths[0];
  // Other formats' precision, sigma, photons, background columns under PYME's names, in nm.
  const table = toConvention(source, 'pyme');
  await withFile(await openForWriting(file), target, (module, h5) => {
    const id = h5.file_id;
    writePyTablesGroupAttrs(module, id, '/');
    // Every column in its storage dtype (LocTable.dtypes): float32 x stays float32 after a correction.
    const fields: OutputField[] = [...table.columns].map(([name, values]) => ({ name, values, dtype: columnStorageDtype(table, name) }));
    const tablePath = '/Localizations';
    options.progress?.start?.('writing', table.length);
    writeCompoundColumns(module, id, tablePath, fields, table.length, { deflateLevel: DEFLATE_LEVEL, onRows: (done) => options.progress?.update?.(done) });
    options.progress?.stop?.();
    writePyTablesTableAttrs(module, id, tablePath, fields, table.length);
    // ccdrift's own CSV-style keys describe the input's text layout, not the data: not written.
    const kept = Object.fromEntries(Object.entries(table.metadata).filter(([k]) => !k.startsWith('ccdrift.csv.')));
    const metadata = withProvenance(kept, options.provenance);
    writeMetadataTree(module, id, metadata, '/MetaData', table.metadataKinds);
    if (table.events) writeEvents(module, id, table.events);
  });
}

/** The attributes that make a compound dataset a PyTables Table (readable and appendable by `tables`). */
export function writePyTablesTableAttrs(module: H5Module, fileId: bigint, path: string, fields: OutputField[], rows: number): void {
  writeSystemAttribute(module, fileId, path, 'CLASS', 'TABLE');
  writeSystemAttribute(module, fileId, path, 'VERSION', '2.7');
  writeSystemAttribute(module, fileId, path, 'TITLE', '');
  fields.forEach((f, i) => {
    writeSystemAttribute(module, fileId, path, `FIELD_${i}_NAME`, f.name);
    writeNumberAttribute(module, fileId, path, `FIELD_${i}_FILL`, 0, f.dtype);
  });
  writeNumberAttribute(module, fileId, path, 'NROWS', rows, 'i8');
}

export const pymeTableFormat: TableFormat = {
  name: 'PYME localizations (PyTables HDF5)',
  extensions: ['.hdf', '.h5r'],
  read: readPymeTable,
  write: writePymeTable,
};
