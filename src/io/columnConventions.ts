/**
 * Column names and units across formats (issue 13), one rule:
 *
 * - Writing the format a table came from keeps its columns' names and units as they were.
 * - Converting between formats maps the known columns to the target's names and units and keeps
 *   every other column as it is. x, y, z (nm) and t/frame are handled by each reader/writer; the
 *   others, with their names per format:
 *
 *   | quantity | PYME `.hdf`, plain CSV (nm) | Picasso `.hdf5` | ThunderSTORM CSV (nm) |
 *   |---|---|---|---|
 *   | precision x, y | `error_x`, `error_y` | `lpx`, `lpy` (pixels) | `uncertainty [nm]` / `uncertainty_xy [nm]` (one for both) |
 *   | precision z | `error_z` | — (kept as it is) | `uncertainty_z [nm]` |
 *   | PSF sigma | `sig` (+ `sigmax`, `sigmay` when x ≠ y) | `sx`, `sy` (pixels) | `sigma [nm]`, or `sigma1 [nm]`, `sigma2 [nm]` |
 *   | photons | `nPhotons` (`photons` read too) | `photons` | `intensity [photon]` |
 *   | background | `bg` | `bg` | `offset [photon]` |
 *
 *   One column for both axes (ThunderSTORM's uncertainty, PYME's `sig`) gives both; two
 *   different columns written into one take their root mean square. Pixels ↔ nm use the
 *   table's pixel size (Picasso's `Pixelsize`, PYME's `voxelsize.x`) and the target's.
 * - The correction ccdrift adds (`dx`, `dy`, `dz`) is in the table's own units: nm, except in
 *   Picasso files where dx, dy are pixels like x, y (the Picasso reader and writer convert).
 *
 * A ThunderSTORM CSV written back as CSV stays ThunderSTORM; other tables are written to CSV in
 * the plain (PYME-named, nm) style.
 */
import type { LocTable, Metadata, NumericArray, TableConvention } from '../core/types.js';
import { deriveTable } from '../core/columnDtypes.js';

export type Convention = TableConvention;

/** The camera pixel size (nm) a table's metadata states: Picasso's Pixelsize, else PYME's voxelsize.x. */
export function metadataPixelSizeNm(metadata: Metadata): number | undefined {
  if (typeof metadata.Pixelsize === 'number' && metadata.Pixelsize > 0) return metadata.Pixelsize;
  const vx = metadata['voxelsize.x'];
  const units = metadata['voxelsize.units'] ?? 'um';
  if (typeof vx === 'number' && vx > 0 && (units === 'um' || units === 'µm')) return vx * 1000;
  if (typeof vx === 'number' && vx > 0 && units === 'nm') return vx;
  return undefined;
}

interface Canonical {
  precisionX?: NumericArray;
  precisionY?: NumericArray;
  precisionZ?: NumericArray;
  sigmaX?: NumericArray;
  sigmaY?: NumericArray;
  photons?: NumericArray;
  background?: NumericArray;
}

type Key = keyof Canonical;

/** Source columns per convention: name, the quantities it gives, and whether it is in pixels. */
const SOURCES: Record<Convention, { name: string; keys: Key[]; pixels?: boolean }[]> = {
  pyme: [
    { name: 'error_x', keys: ['precisionX'] },
    { name: 'error_y', keys: ['precisionY'] },
    { name: 'error_z', keys: ['precisionZ'] },
    { name: 'sig', keys: ['sigmaX', 'sigmaY'] },
    { name: 'sigmax', keys: ['sigmaX'] },
    { name: 'sigmay', keys: ['sigmaY'] },
    { name: 'nPhotons', keys: ['photons'] },
    { name: 'photons', keys: ['photons'] },
    { name: 'bg', keys: ['background'] },
  ],
  picasso: [
    { name: 'lpx', keys: ['precisionX'], pixels: true },
    { name: 'lpy', keys: ['precisionY'], pixels: true },
    { name: 'sx', keys: ['sigmaX'], pixels: true },
    { name: 'sy', keys: ['sigmaY'], pixels: true },
    { name: 'photons', keys: ['photons'] },
    { name: 'bg', keys: ['background'] },
  ],
  thunderstorm: [
    { name: 'uncertainty [nm]', keys: ['precisionX', 'precisionY'] },
    { name: 'uncertainty_xy [nm]', keys: ['precisionX', 'precisionY'] },
    { name: 'uncertainty_z [nm]', keys: ['precisionZ'] },
    { name: 'sigma [nm]', keys: ['sigmaX', 'sigmaY'] },
    { name: 'sigma1 [nm]', keys: ['sigmaX'] },
    { name: 'sigma2 [nm]', keys: ['sigmaY'] },
    { name: 'intensity [photon]', keys: ['photons'] },
    { name: 'offset [photon]', keys: ['background'] },
  ],
};

/** Quantities each target format has a column for (others stay under their source name). */
const TARGET_KEYS: Record<Exclude<Convention, 'thunderstorm'>, Key[]> = {
  pyme: ['precisionX', 'precisionY', 'precisionZ', 'sigmaX', 'sigmaY', 'photons', 'background'],
  picasso: ['precisionX', 'precisionY', 'sigmaX', 'sigmaY', 'photons', 'background'],
};

function scaled(values: NumericArray, factor: number): NumericArray {
  if (factor === 1) return values;
  return Float64Array.from(values, (v) => v * factor);
}

function rms(a: NumericArray, b: NumericArray): Float64Array {
  return Float64Array.from(a, (v, i) => Math.sqrt((v * v + b[i] * b[i]) / 2));
}

/**
 * The table with its known columns renamed and rescaled from convention `from` to `to` (see the
 * rule above); the same table when nothing changes. Columns keep their order: the mapped ones
 * take the place of the first column they came from. `targetPixelSizeNm` is needed for Picasso
 * targets (pixels), `sourcePixelSizeNm` for Picasso sources.
 */
export function convertColumns(
  table: LocTable,
  from: Convention,
  to: Exclude<Convention, 'thunderstorm'>,
  pixelSizes: { sourceNm?: number; targetNm?: number } = {},
): LocTable {
  if (from === to) return table;
  const wanted = new Set(TARGET_KEYS[to]);
  const canonical: Canonical = {};
  const consumed = new Set<string>();
  for (const src of SOURCES[from]) {
    const values = table.columns.get(src.name);
    if (!values || !src.keys.some((k) => wanted.has(k) && canonical[k] === undefined)) continue;
    if (src.pixels && !pixelSizes.sourceNm) continue; // unknown pixel size: keep the column as it is
    const nm = src.pixels ? scaled(values, pixelSizes.sourceNm!) : values;
    for (const k of src.keys) if (wanted.has(k) && canonical[k] === undefined) canonical[k] = nm;
    consumed.add(src.name);
  }
  if (consumed.size === 0) return table;
  if (to === 'picasso' && !pixelSizes.targetNm && (canonical.precisionX || canonical.sigmaX)) return table;

  const mapped: [string, NumericArray][] = [];
  const put = (name: string, values: NumericArray | undefined) => {
    if (values) mapped.push([name, values]);
  };
  if (to === 'pyme') {
    put('error_x', canonical.precisionX);
    put('error_y', canonical.precisionY);
    put('error_z', canonical.precisionZ);
    const { sigmaX: sx, sigmaY: sy } = canonical;
    if (sx && sy) {
      put('sig', sx === sy ? sx : rms(sx, sy));
      if (sx !== sy) {
        put('sigmax', sx);
        put('sigmay', sy);
      }
    } else put('sig', sx ?? sy);
    put('nPhotons', canonical.photons);
    put('bg', canonical.background);
  } else {
    // Picasso stores these as float32 pixels.
    const px = pixelSizes.targetNm ?? 1;
    const toPx = (v: NumericArray | undefined) => v && Float32Array.from(v, (a) => a / px);
    put('lpx', toPx(canonical.precisionX));
    put('lpy', toPx(canonical.precisionY));
    put('sx', toPx(canonical.sigmaX));
    put('sy', toPx(canonical.sigmaY));
    put('photons', canonical.photons);
    put('bg', canonical.background);
  }
  const columns = new Map<string, NumericArray>();
  let placed = false;
  for (const [name, values] of table.columns) {
    if (consumed.has(name)) {
      if (!placed) for (const [n, v] of mapped) if (!table.columns.has(n) || consumed.has(n)) columns.set(n, v);
      placed = true;
      continue;
    }
    if (!columns.has(name)) columns.set(name, values);
  }
  // Kept columns keep their storage dtypes, mapped ones are stored as computed.
  return { ...deriveTable(table, columns), convention: to };
}

/** The convention a table's columns are in ('pyme' for tables ccdrift made: nm, PYME names). */
export function conventionOf(table: LocTable): Convention {
  return table.convention ?? 'pyme';
}

/** Map `table` to a target format's names and units (see the rule at the top), from its own convention. */
export function toConvention(table: LocTable, to: Exclude<Convention, 'thunderstorm'>, targetPixelSizeNm?: number): LocTable {
  const from = conventionOf(table);
  return convertColumns(table, from, to, { sourceNm: from === 'picasso' ? metadataPixelSizeNm(table.metadata) : undefined, targetNm: targetPixelSizeNm });
}
