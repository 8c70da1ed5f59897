/**
 * PYME localization tables (`.hdf`, written by PyTables) and analysis results (`.h5r`,
 * `/FitResults` with nested records), read and written in blocks of rows.
 */
import { param } from '../../core/messageParams.js';
import type { AcquisitionEvent, ColumnDtype, LocTable, Metadata, MetadataKind, MetaValue, NumericArray, ProgressReporter } from '../../core/types.js';
import { columnStorageDtype } from '../../core/columnDtypes.js';
import { checkAllocation } from '../../core/memoryLimit.js';
import { InputError, UsageError } from '../../core/errors.js';
import { extensionOf, type TableFormat, type TableReadOptions, type TableWriteOptions } from '../formats.js';
import { open } from 'node:fs/promises';
import {
  planMetadataTree,
  pyTablesGroupAttributes,
  readMetadataTreeWithKinds,
  writeAttribute,
  writeMetadataTree,
  writePyTablesGroupAttrs,
  pyTablesTableAttributes,
} from './attributes.js';
export { pyTablesTableAttributes };
import { adaptiveDeflate, DEFLATE_IN_FLIGHT } from './deflateChunk.js';
import { UnsupportedByWriterError, writeHdf5, type GroupNode, type TableNode } from './hdf5Writer.js';
import {
  compoundLeaves,
  leavesAsDelivered,
  dtypeSize,
  readCompoundColumns,
  writeCompoundColumns,
  type CompoundLeaf,
  type OutputField,
  type TypeMetadata,
} from './compoundTable.js';
import { H5T, openForReading, openForWriting, withFile, type H5File, type H5Module } from './h5Library.js';
import { toConvention } from '../columnConventions.js';
import { eventsTableNode, readEvents, writeEvents } from './events.js';
import { readTableFromChunks } from './chunkedTableReader.js';

/** zlib level of tables written by h5wasm (the fallback): 1 compresses nearly as well as 5 without shuffle, several times faster. */
const DEFLATE_LEVEL = 1;
/**
 * zlib level of tables written by our own writer, after shuffle (as PyTables and PYME store
 * tables), with zlib's run-length strategy where it does as well (adaptiveDeflate, see
 * deflateChunk.ts; Z_RLE ignores the level). With the default strategy, level 4 (zlib's first
 * lazy-matching level) costs about what level 2 does on shuffled tables and comes out smaller
 * than PyTables' level 5 in its smaller chunks (the real .h5r of the fixtures: 3.09 against
 * 3.16 MB); simulated tables take Z_RLE, smaller than PyTables' in a third of the time.
 */
export const SHUFFLED_DEFLATE_LEVEL = 4;
/** Bytes of rows per chunk of a written table, at most: chunks still fit HDF5's default 1 MiB chunk cache. */
const CHUNK_BYTES = 1 << 20;

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
  throw new InputError(`${path}: several tables (${candidates.map((t) => t.path.slice(1)).join(', ')}); choose one with ${param('table')}`);
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
    throw new InputError(
      `${path}: column ${name} is ${nonNumeric.get(name)}, expected numbers (${wrongType === 't' ? 'frames' : 'nm'}); write it as a numeric field`,
    );
  }
  if (missing.length > 0) {
    throw new InputError(
      `${path}: the table has no column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ` +
        `(localizations need x, y in nm and t in frames); columns present: ${[...columns.keys()].join(', ') || '(none)'}`,
    );
  }
}

/**
 * Read the table's columns (all numeric fields): straight from its chunks, inflated in
 * parallel (chunkedTableReader.ts), when the file is laid out as PyTables and PYME write it;
 * otherwise through h5wasm, in blocks.
 */
export async function readTableColumns(
  path: string,
  module: H5Module,
  file: H5File,
  table: TableInfo,
  progress?: ProgressReporter,
): Promise<{ columns: Map<string, NumericArray>; dtypes: Map<string, ColumnDtype>; skipped: string[]; skippedKinds: Map<string, string> }> {
  const { leaves, skipped, skippedKinds } = compoundLeaves(table.type);
  const nested = leaves.some((l) => l.path.length > 1);
  progress?.start?.('reading', table.rows);
  const onRows = (done: number) => progress?.update?.(done);
  const data =
    (await readTableFast(path, table, leaves, onRows)) ??
    readCompoundColumns(module, file.file_id, table.path, leavesAsDelivered(table.type, leaves), table.type.size, table.rows, table.chunkRows, onRows);
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

/**
 * The direct route, or null when the file's storage is outside it (the reason is kept in
 * `lastReadRoute`) or when the environment variable CCDRIFT_HDF5_READER=h5wasm asks for the
 * library (to compare the two routes).
 */
async function readTableFast(path: string, table: TableInfo, leaves: CompoundLeaf[], onRows: (done: number) => void): Promise<NumericArray[] | null> {
  if (readerChoice() === 'h5wasm') {
    lastReadRoute = 'h5wasm (CCDRIFT_HDF5_READER=h5wasm)';
    return null;
  }
  checkAllocation(
    leaves.reduce((sum, leaf) => sum + (dtypeSize(leaf.dtype) === 8 ? 8 : 4), 0) * table.rows,
    `the table ${table.path} (${table.rows} rows of ${leaves.length} columns, as the file declares)`,
    'is the file corrupt?',
  );
  const outcome = await readTableFromChunks(path, table.path, leaves, table.type.size, table.rows, onRows);
  lastReadRoute = outcome.reason === null ? 'chunks' : `h5wasm (${outcome.reason})`;
  return outcome.columns;
}

/** How the last table was read: 'chunks' or 'h5wasm (why)'; for tests and the bench. */
export let lastReadRoute = '';

function readerChoice(): string | undefined {
  return typeof process === 'undefined' ? undefined : process.env?.CCDRIFT_HDF5_READER;
}

/** Read a PYME `.hdf` / `.h5r` localization table (see SPEC §2). */
export async function readPymeTable(path: string, options: TableReadOptions = {}): Promise<LocTable> {
  return withFile(await openForReading(path), path, async (module, file) => {
    const { tables, others } = listTables(module, file);
    const table = chooseTable(path, tables, others, options.table);
    const { columns, skippedKinds, dtypes } = await readTableColumns(path, module, file, table, options.progress);
    if (table.path === '/locs' && columns.has('frame') && !columns.has('t')) {
      throw new InputError(
        `${path}: this looks like a Picasso file (dataset 'locs', x/y in camera pixels); ` + `give it the .hdf5 extension and keep its .yaml sidecar beside it`,
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
export async function writePymeTable(temporaryPaths: string[], source: LocTable, options: TableWriteOptions = {}, target = temporaryPaths[0]): Promise<void> {
  if (extensionOf(target) === '.h5r') {
    throw new UsageError(`${target}: .h5r files are PYME's raw analysis results and are not written; use the .hdf extension for localizations`);
  }
  const file = temporaryPaths[0];
  // Other formats' precision, sigma, photons, background columns under PYME's names, in nm.
  const table = toConvention(source, 'pyme');
  // Every column in its storage dtype (LocTable.dtypes): float32 x stays float32 after a correction.
  const fields: OutputField[] = [...table.columns].map(([name, values]) => ({ name, values, dtype: columnStorageDtype(table, name) }));
  // ccdrift's own CSV-style keys describe the input's text layout, not the data: not written.
  const kept = Object.fromEntries(Object.entries(table.metadata).filter(([k]) => !k.startsWith('ccdrift.csv.')));
  const metadata = withProvenance(kept, options.provenance);
  const tablePath = '/Localizations';
  options.progress?.start?.('writing', table.length);
  try {
    await writeOwnPymeFile(file, fields, table.length, metadata, table.metadataKinds, table.events, (done) => options.progress?.update?.(done));
  } catch (err) {
    if (!(err instanceof UnsupportedByWriterError)) throw err;
    // Nothing was written yet: h5wasm writes the file instead (deflate without shuffle).
    await withFile(await openForWriting(file), target, (module, h5) => {
      const id = h5.file_id;
      writePyTablesGroupAttrs(module, id, '/');
      writeCompoundColumns(module, id, tablePath, fields, table.length, { deflateLevel: DEFLATE_LEVEL, onRows: (done) => options.progress?.update?.(done) });
      writePyTablesTableAttrs(module, id, tablePath, fields, table.length);
      writeMetadataTree(module, id, metadata, '/MetaData', table.metadataKinds);
      if (table.events) writeEvents(module, id, table.events);
    });
  } finally {
    options.progress?.stop?.();
  }
}

/**
 * Write the PYME file with our own HDF5 writer: the table shuffled and deflated as PyTables
 * stores it, its chunks compressed in parallel. Throws UnsupportedByWriterError, before writing
 * anything, when the content needs the h5wasm writer.
 */
async function writeOwnPymeFile(
  path: string,
  fields: OutputField[],
  rows: number,
  metadata: Metadata,
  kinds: ReadonlyMap<string, MetadataKind> | undefined,
  events: readonly AcquisitionEvent[] | undefined,
  onRows: (done: number) => void,
): Promise<void> {
  const rowBytes = fields.reduce((s, f) => s + dtypeSize(f.dtype), 0);
  const table: TableNode = {
    kind: 'table',
    attributes: pyTablesTableAttributes(fields, rows),
    fields,
    rows,
    // A multiple of 4 rows: the shuffle moves 4 bytes at a time.
    chunkRows: Math.max(1, Math.min(4 * Math.max(1, Math.floor(CHUNK_BYTES / Math.max(1, rowBytes) / 4)), rows)),
    deflateLevel: SHUFFLED_DEFLATE_LEVEL,
  };
  const root: GroupNode = { kind: 'group', attributes: pyTablesGroupAttributes('/'), children: new Map([['Localizations', table]]) };
  if (events) root.children.set('Events', eventsTableNode(events));
  for (const [path, attributes] of planMetadataTree(metadata, '/MetaData', kinds)) {
    const names = path.split('/').slice(1);
    let parent = root;
    for (const name of names.slice(0, -1)) parent = parent.children.get(name) as GroupNode;
    parent.children.set(names[names.length - 1], { kind: 'group', attributes, children: new Map() });
  }
  const handle = await open(path, 'w');
  try {
    await writeHdf5(handle, root, { deflate: { perTable: adaptiveDeflate }, parallel: DEFLATE_IN_FLIGHT, onRows });
  } finally {
    await handle.close();
  }
}

/** The attributes that make a compound dataset a PyTables Table, written through h5wasm. */
export function writePyTablesTableAttrs(module: H5Module, fileId: bigint, path: string, fields: OutputField[], rows: number): void {
  for (const attr of pyTablesTableAttributes(fields, rows)) writeAttribute(module, fileId, path, attr);
}

export const pymeTableFormat: TableFormat = {
  name: 'PYME localizations (PyTables HDF5)',
  extensions: ['.hdf', '.h5r'],
  read: readPymeTable,
  write: writePymeTable,
};
