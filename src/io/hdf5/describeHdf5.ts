/**
 * A human-readable summary of an HDF5 file for `ccdrift info`: what it holds (PYME table,
 * `.h5r` results, Picasso localizations or a PYME image stack), its columns with dtypes, frame
 * range, x/y extent in nm, and the metadata with long values abbreviated. CSV tables and drift
 * files are shown in the same layout (`cli/commands/info.ts`): a kind line, rows, columns,
 * frames, extent, metadata.
 */
import { InputError } from '../../core/errors.js';
import type { ColumnDtype, LocTable, Metadata, MetaValue } from '../../core/types.js';
import { columnStorageDtype } from '../../core/columnDtypes.js';
import { readMetadataTree } from './attributes.js';
import type { TypeMetadata } from './compoundTable.js';
import { H5T, openForReading, withFile } from './h5Library.js';
import { picassoYamlPath, readPicasso } from './picasso.js';
import { voxelSizeFromMetadata } from './pymeImage.js';
import { chooseTable, listTables, readTableColumns } from './pymeTable.js';

/** Longest metadata value shown before it is cut with '…'. */
const MAX_VALUE_CHARS = 60;

const NUMPY_NAMES: Record<ColumnDtype, string> = {
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  f4: 'float32',
  f8: 'float64',
};

function range(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

const fmt = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : v.toFixed(1));

function abbreviate(value: MetaValue): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/**
 * Keys ccdrift keeps for itself while a table is in memory (how to write a CSV back in its
 * input's style): not the file's metadata, so `info` does not show them.
 */
export function isInternalKey(key: string): boolean {
  return key.startsWith('ccdrift.csv.');
}

export function describeMetadata(metadata: Metadata): string[] {
  const keys = Object.keys(metadata)
    .filter((k) => !isInternalKey(k))
    .sort();
  if (keys.length === 0) return ['  metadata: (none)'];
  return [`  metadata (${keys.length} keys):`, ...keys.map((k) => `    ${k} = ${abbreviate(metadata[k])}`)];
}

/** Columns with their storage dtypes, frame range and x/y/z extent. */
export function describeColumns(table: Pick<LocTable, 'columns' | 'dtypes'>, unit: string): string[] {
  const { columns } = table;
  const lines = [`  columns (${columns.size}): ${[...columns.keys()].map((n) => `${n} ${NUMPY_NAMES[columnStorageDtype(table, n)]}`).join(', ')}`];
  const t = columns.get('t');
  if (t && t.length) {
    const [a, b] = range(t);
    lines.push(`  frames: ${fmt(a)} – ${fmt(b)}`);
  }
  for (const axis of ['x', 'y', 'z']) {
    const c = columns.get(axis);
    if (!c || !c.length) continue;
    const [a, b] = range(c);
    lines.push(`  ${axis}: ${fmt(a)} – ${fmt(b)} ${unit} (extent ${fmt(b - a)} ${unit})`);
  }
  return lines;
}

/** Summarise the HDF5 file at `path` (PYME .hdf/.h5r/.h5 or Picasso .hdf5). */
export async function describeHdf5(path: string): Promise<string> {
  const probe = await withFile(await openForReading(path), path, async (module, file) => {
    const { tables, others } = listTables(module, file);
    if (module.get_type(file.file_id, '/ImageData') === module.H5G_DATASET) {
      const meta = module.get_dataset_metadata(file.file_id, '/ImageData') as unknown as TypeMetadata & { shape: number[] | null };
      const kind = meta.type === H5T.FLOAT ? 'float' : meta.signed ? 'int' : 'uint';
      const metadata = readMetadataTree(module, file);
      const voxel = voxelSizeFromMetadata(metadata);
      return {
        lines: [
          `${path}: PYME image stack (HDF5 /ImageData)`,
          `  shape (T, X, Y): (${(meta.shape ?? []).join(', ')})`,
          `  dtype: ${kind}${meta.size * 8}`,
          `  voxel size: ${voxel ? voxel.map((v) => `${+v.toFixed(3)}`).join(' × ') + ' nm' : 'unknown (no /MetaData/voxelsize)'}`,
          ...describeMetadata(metadata),
        ],
      };
    }
    if (tables.some((t) => t.path === '/locs')) return { picasso: true as const, lines: [] as string[] };
    if (tables.length === 0) {
      return { lines: [`${path}: HDF5 file with no table or image; datasets: ${others.join(', ') || '(none)'}`] };
    }
    let table;
    try {
      table = chooseTable(path, tables, others, undefined);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      table = tables.find((t) => t.path !== '/Events') ?? tables[0];
    }
    const { columns, dtypes, skipped } = await readTableColumns(path, module, file, table);
    const nested = (table.type.compound_type?.members ?? []).some((m) => m.type === H5T.COMPOUND);
    const rest = tables.filter((t) => t !== table).map((t) => `${t.path} (${fmt(t.rows)} rows)`);
    return {
      lines: [
        `${path}: ${nested ? 'PYME analysis results' : 'PYME localizations'} (HDF5 table ${table.path})`,
        `  rows: ${fmt(table.rows)}`,
        ...describeColumns({ columns, dtypes }, 'nm'),
        ...(skipped.length ? [`  non-numeric fields (not read): ${skipped.join(', ')}`] : []),
        ...(rest.length ? [`  other tables: ${rest.join(', ')}`] : []),
        ...describeMetadata(readMetadataTree(module, file)),
      ],
    };
  });
  if (!('picasso' in probe)) return probe.lines.join('\n');

  let unit = 'nm';
  let table;
  try {
    table = await readPicasso(path);
  } catch (err) {
    if (!(err instanceof InputError) || !/pixel/i.test(err.message)) throw err;
    table = await readPicasso(path, { pixelSizeNm: 1 });
    unit = 'px';
  }
  return [
    `${path}: Picasso localizations (HDF5 'locs' + ${picassoYamlPath(path)})`,
    `  rows: ${fmt(table.length)}`,
    ...(unit === 'px'
      ? ['  pixel size: unknown (no Pixelsize in the yaml): x, y shown in camera pixels']
      : [`  pixel size: ${String(table.metadata.Pixelsize)} nm`]),
    ...describeColumns(table, unit),
    ...describeMetadata(table.metadata),
  ].join('\n');
}
