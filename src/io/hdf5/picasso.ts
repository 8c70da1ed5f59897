/**
 * Picasso localizations: an h5py `.hdf5` file with a compound dataset `locs` (x, y in camera
 * pixels, `frame` 0-based) and a multi-document `.yaml` sidecar holding, among the processing
 * history, the camera `Pixelsize` in nm. A drift correction's `dx`, `dy` are written in pixels
 * (as x, y) and `dz` in nm (as z), and read back to nm, so corrections compose.
 */
import { param } from '../../core/messageParams.js';
import { existsSync, readFileSync, promises as fs } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';
import { InputError, UsageError } from '../../core/errors.js';
import type { LocTable, Metadata, MetaValue, NumericArray } from '../../core/types.js';
import type { TableFormat, TableReadOptions, TableWriteOptions } from '../formats.js';
import { writeCompoundColumns, type OutputField } from './compoundTable.js';
import { columnStorageDtype, withColumnDtypes } from '../../core/columnDtypes.js';
import { openForReading, openForWriting, withFile } from './h5Library.js';
import { listTables, readTableColumns, requireXYT } from './pymeTable.js';
import { toConvention } from '../columnConventions.js';

/** The yaml sidecar of a Picasso file: same stem, `.yaml`. */
export function picassoYamlPath(path: string): string {
  return path.replace(/\.hdf5$/i, '') + '.yaml';
}

function flatten(value: unknown, prefix: string, out: Metadata): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = (value ?? null) as MetaValue;
}

/** Pixel size (nm) recorded in the documents: the last document that states one wins. */
function pixelSizeOf(documents: unknown[]): number | undefined {
  for (let i = documents.length - 1; i >= 0; i--) {
    const doc = documents[i] as Record<string, unknown> | null;
    const v = doc && typeof doc === 'object' ? doc.Pixelsize : undefined;
    if (typeof v === 'number' && v > 0) return v;
  }
  return undefined;
}

async function readYaml(yamlPath: string): Promise<unknown[]> {
  const text = await fs.readFile(yamlPath, 'utf8');
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  for (const d of docs) {
    if (d.errors.length > 0) throw new InputError(`${yamlPath}: invalid YAML — ${d.errors[0].message}`);
  }
  return docs.map((d) => d.toJS() as unknown);
}

/**
 * The pixel size (nm) the `.yaml` sidecar of a Picasso file states, without reading the data
 * (commands check their outputs before reading any); undefined when absent or unreadable.
 */
export function picassoYamlPixelSize(path: string): number | undefined {
  const yamlPath = picassoYamlPath(path);
  if (!existsSync(yamlPath)) return undefined;
  try {
    return pixelSizeOf(parseAllDocuments(readFileSync(yamlPath, 'utf8')).map((d) => d.toJS() as unknown));
  } catch {
    return undefined;
  }
}

/** Read a Picasso `.hdf5` + `.yaml`: x, y converted to nm, `frame` becomes `t`. */
export async function readPicasso(path: string, options: TableReadOptions = {}): Promise<LocTable> {
  const yamlPath = picassoYamlPath(path);
  const documents = existsSync(yamlPath) ? await readYaml(yamlPath) : [];
  const stated = pixelSizeOf(documents);
  if (options.pixelSizeNm !== undefined && stated !== undefined && options.pixelSizeNm !== stated && !options.overridePixelSize) {
    throw new UsageError(
      `${path}: ${param('pixelSizeNm')} ${options.pixelSizeNm} nm disagrees with Pixelsize ${stated} nm in ${yamlPath}; ` +
        `drop ${param('pixelSizeNm')} to use the file's, or set ${param('overridePixelSize')} to override it (the new yaml then records the override)`,
    );
  }
  const pixelSizeNm = options.pixelSizeNm ?? stated;
  const table = await withFile(await openForReading(path), path, async (module, file) => {
    const { tables, others } = listTables(module, file);
    const locs = tables.find((t) => t.path === '/locs');
    if (!locs) {
      if (others.includes('/ImageData')) {
        throw new InputError(`${path}: this is a PYME image stack (/ImageData), not Picasso localizations; use \`ccdrift images\``);
      }
      throw new InputError(
        `${path}: no 'locs' dataset (Picasso localizations); datasets in the file: ` +
          `${[...tables.map((t) => t.path.slice(1)), ...others.map((o) => o.slice(1))].join(', ') || '(none)'}`,
      );
    }
    const { columns, skippedKinds, dtypes } = await readTableColumns(path, module, file, locs, options.progress);
    return { rows: locs.rows, columns, skippedKinds, dtypes };
  });
  const columns = new Map<string, NumericArray>();
  for (const [name, values] of table.columns) columns.set(name === 'frame' ? 't' : name, values);
  requireXYT(path, columns, table.skippedKinds);
  if (pixelSizeNm === undefined) {
    throw new InputError(
      existsSync(yamlPath)
        ? `${path}: the sidecar ${yamlPath} states no Pixelsize, and Picasso stores x, y in camera pixels; give the pixel size with ${param('pixelSizeNm')} (nm)`
        : `${path}: the sidecar ${yamlPath} is missing, so the camera pixel size is unknown (Picasso stores x, y in pixels); ` +
            `put the .yaml beside the file or give the pixel size with ${param('pixelSizeNm')} (nm)`,
    );
  }
  if (!(pixelSizeNm > 0)) throw new UsageError(`pixel size must be a positive number of nm; received ${pixelSizeNm}`);
  // dx, dy of a table ccdrift corrected before are pixels like x, y (Picasso's units): nm inside.
  for (const axis of ['x', 'y', 'dx', 'dy']) {
    const px = columns.get(axis);
    if (!px) continue;
    const nm = new Float64Array(px.length);
    for (let i = 0; i < px.length; i++) nm[i] = px[i] * pixelSizeNm;
    columns.set(axis, nm);
  }
  const metadata: Metadata = {};
  for (const doc of documents) flatten(doc, '', metadata);
  metadata.Pixelsize = pixelSizeNm;
  metadata['voxelsize.x'] = pixelSizeNm / 1000;
  metadata['voxelsize.y'] = pixelSizeNm / 1000;
  metadata['voxelsize.units'] = 'um';
  // x, y (nm now) and every other column keep the file's dtype; t is Picasso's frame.
  const dtypes = withColumnDtypes({ columns: table.columns, dtypes: table.dtypes }, columns, {}, { t: 'frame' });
  return { length: table.rows, columns, metadata, dtypes, convention: 'picasso', history: documents };
}

/** Pixel size for writing: the option, else Picasso's `Pixelsize`, else PYME's voxel size (µm). */
function writePixelSize(table: LocTable, options: TableWriteOptions, target: string): number {
  const md = table.metadata;
  const fromPyme = typeof md['voxelsize.x'] === 'number' && (md['voxelsize.units'] ?? 'um') === 'um' ? md['voxelsize.x'] * 1000 : undefined;
  const px = options.pixelSizeNm ?? (typeof md.Pixelsize === 'number' ? md.Pixelsize : undefined) ?? fromPyme;
  if (px === undefined || !(px > 0)) {
    throw new UsageError(
      `${target}: Picasso stores x, y in camera pixels but the pixel size is unknown (no Pixelsize or voxelsize.x in the metadata); ` +
        `give it with ${param('pixelSizeNm')} (nm)`,
    );
  }
  return px;
}

function maxOf(values: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > m) m = values[i];
  return m;
}

/** Write Picasso `.hdf5` (x, y back in pixels as float32, `frame` uint32) and its `.yaml` with a new history document. */
export async function writePicasso(temporaryPaths: string[], source: LocTable, options: TableWriteOptions = {}, target = temporaryPaths[0]): Promise<void> {
  const pixelSizeNm = writePixelSize(source, options, target);
  // Other formats' precision, sigma, photons, background columns under Picasso's names, in pixels.
  const table = toConvention(source, 'picasso', pixelSizeNm);
  const t = table.columns.get('t');
  const x = table.columns.get('x');
  const y = table.columns.get('y');
  if (!t || !x || !y) requireXYT(target, table.columns);
  for (let i = 0; i < t!.length; i++) {
    const f = t![i];
    if (!(f >= 0 && f <= 0xffffffff && Number.isInteger(f))) {
      throw new InputError(`${target}: Picasso frames are non-negative integers (uint32); row ${i} has t = ${f}`);
    }
  }
  const toPixels = (nm: NumericArray) => {
    const out = new Float32Array(nm.length);
    for (let i = 0; i < nm.length; i++) out[i] = nm[i] / pixelSizeNm;
    return out;
  };
  const xPx = toPixels(x!);
  const yPx = toPixels(y!);
  const fields: OutputField[] = [
    { name: 'frame', values: t!, dtype: 'u4' },
    { name: 'x', values: xPx, dtype: 'f4' },
    { name: 'y', values: yPx, dtype: 'f4' },
  ];
  for (const [name, values] of table.columns) {
    if (name === 't' || name === 'x' || name === 'y' || name === 'frame') continue;
    // The correction in the table's own units: dx, dy in pixels as x, y; dz in nm as z.
    if (name === 'dx' || name === 'dy') {
      fields.push({ name, values: Float64Array.from(values, (v) => v / pixelSizeNm), dtype: columnStorageDtype(table, name) });
      continue;
    }
    fields.push({ name, values, dtype: columnStorageDtype(table, name) });
  }
  await withFile(await openForWriting(temporaryPaths[0]), target, (module, file) => {
    options.progress?.start?.('writing', table.length);
    writeCompoundColumns(module, file.file_id, '/locs', fields, table.length, { onRows: (done) => options.progress?.update?.(done) });
    options.progress?.stop?.();
  });

  const history = table.history;
  const documents: unknown[] = history
    ? [...history]
    : [
        {
          'Generated by': 'ccdrift',
          Frames: table.length ? maxOf(t!) + 1 : 0,
          Width: table.length ? Math.ceil(maxOf(xPx)) + 1 : 0,
          Height: table.length ? Math.ceil(maxOf(yPx)) + 1 : 0,
        },
      ];
  documents.push({ 'Generated by': 'ccdrift', Pixelsize: pixelSizeNm, ...(options.provenance ?? {}) });
  const text = documents.map((d) => stringify(d)).join('---\n');
  await fs.writeFile(temporaryPaths[1], text, 'utf8');
}

export const picassoFormat: TableFormat = {
  name: 'Picasso localizations (.hdf5 + .yaml)',
  extensions: ['.hdf5'],
  read: readPicasso,
  write: writePicasso,
  sidecars: (target) => [picassoYamlPath(target)],
};
