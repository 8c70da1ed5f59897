/**
 * Locs_Post_Shift (SPEC §4.4): evaluate the drift interpolator at every localization's frame,
 * store it in columns dx, dy, dz and correct x, y, z by ADDING it (core/types.ts). A table that
 * already carries dx/dy/dz was corrected before: the new correction composes with the old one
 * (dx_total = dx_old + dx_new), it never silently replaces it.
 */
import { InputError } from '../errors.js';
import type { DriftInterpolator, LocTable, NumericArray } from '../types.js';
import { columnStorageDtype, deriveTable, driftColumnDtype } from '../columnDtypes.js';

function requireColumn(table: LocTable, name: string): NumericArray {
  const c = table.columns.get(name);
  if (!c) throw new InputError(`the table has no '${name}' column (columns: ${[...table.columns.keys()].join(', ')})`);
  return c;
}

/** Frame spans up to this many times the rows (and at least this many frames) use a per-frame table. */
const FRAME_TABLE_ROWS_FACTOR = 1;
const FRAME_TABLE_MIN_FRAMES = 1 << 20;

/**
 * The drift per frame when frames are whole numbers and their span is not much longer than the
 * table: the interpolator is then evaluated once per frame and looked up (5 M rows over 50 000
 * frames: 0.1 s instead of 1.5 s), with the same values as row by row. Null otherwise.
 */
function driftPerFrame(t: NumericArray, drift: DriftInterpolator): { lo: number; x: Float64Array; y: Float64Array; z: Float64Array } | null {
  let lo = Infinity;
  let hi = -Infinity;
  let whole = true;
  for (let i = 0; i < t.length; i++) {
    const v = t[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (whole && v !== Math.floor(v)) whole = false;
  }
  const span = hi - lo + 1;
  if (!whole || !(span <= Math.max(FRAME_TABLE_MIN_FRAMES, FRAME_TABLE_ROWS_FACTOR * t.length))) return null;
  return { lo, ...drift.evaluate(Float64Array.from({ length: span }, (_, k) => lo + k)) };
}

/**
 * out[i] = base[i] + perFrame[t[i] − lo] (base absent: 0), in one pass, as float64 or — for a
 * new drift column of a float32 table, which is stored as float32 — float32 (half the fresh
 * memory, whose first touch is much of this step's time on a large table).
 */
function addPerFrame(t: NumericArray, base: NumericArray | undefined, perFrame: Float64Array, lo: number, dtype: 'f4' | 'f8'): Float64Array | Float32Array {
  const out = dtype === 'f4' && !base ? new Float32Array(t.length) : new Float64Array(t.length);
  if (base) for (let i = 0; i < out.length; i++) out[i] = base[i] + perFrame[t[i] - lo];
  else for (let i = 0; i < out.length; i++) out[i] = perFrame[t[i] - lo];
  return out;
}

/** out[i] = base[i] + d[i]; without a base, d itself (each axis' array is returned bare at most once: for its d column). */
function addRows(base: NumericArray | undefined, d: Float64Array): Float64Array {
  if (!base) return d;
  const out = new Float64Array(d.length);
  for (let i = 0; i < out.length; i++) out[i] = base[i] + d[i];
  return out;
}

export function applyDriftToTable(table: LocTable, drift: DriftInterpolator): LocTable {
  const t = requireColumn(table, 't');
  const has3d = table.columns.has('z');
  const frames = driftPerFrame(t, drift);
  const rows = frames ? undefined : drift.evaluate(t);
  /** `base` (a column, or nothing) plus the drift along `axis` at every row. */
  const driftDtype = driftColumnDtype(table);
  const plusDrift = (base: NumericArray | undefined, axis: 'x' | 'y' | 'z'): Float64Array | Float32Array =>
    frames ? addPerFrame(t, base, frames[axis], frames.lo, base ? 'f8' : driftDtype === 'f4' ? 'f4' : 'f8') : addRows(base, rows![axis]);
  const columns = new Map<string, NumericArray>();
  for (const [name, col] of table.columns) {
    if (name === 'x' || name === 'y' || (name === 'z' && has3d)) columns.set(name, plusDrift(col, name));
    else if (name === 'dx' || name === 'dy' || name === 'dz') continue;
    else columns.set(name, col);
  }
  // A first correction: the drift columns themselves; a second composes with the first.
  columns.set('dx', plusDrift(table.columns.get('dx'), 'x'));
  columns.set('dy', plusDrift(table.columns.get('dy'), 'y'));
  columns.set('dz', plusDrift(table.columns.get('dz'), 'z'));
  // Corrected x, y, z are computed in float64 and keep their storage dtype (rounded once, on
  // write); dx, dy, dz keep theirs when the table had them, else get driftColumnDtype's.
  const added = Object.fromEntries((['dx', 'dy', 'dz'] as const).map((d) => [d, table.columns.has(d) ? columnStorageDtype(table, d) : driftDtype]));
  return deriveTable(table, columns, { added });
}
