/**
 * Per-frame drift as text, for people and for other programs:
 *
 * - `writePerFrameDriftCsv`: `t,x,y,z` with t in frames and x, y, z in nm, in ccdrift's sign
 *   convention (the correction to ADD, see `core/types.ts`).
 *
 * - `writePicassoDriftTxt`: the `_drift.txt` that Picasso (jungmannlab/picasso) writes after
 *   undrifting and reads back with "Undrift from file". What Picasso does, read in its source:
 *     · `picasso/io.py`, `save_drift(path, drift)`: `np.savetxt(f, drift, newline="\r\n")` on a
 *       DataFrame with columns x, y (and z for 3D): numpy's defaults, so every value is
 *       `%.18e`, columns separated by one space, no header, each row ended by CRLF. (Older
 *       releases, `picasso/__main__.py::_undrift`, added a `# dx\tdy` header line, which
 *       `np.loadtxt` skips as a comment.)
 *     · `picasso/io.py`, `load_drift(path)`: `np.loadtxt(path, delimiter=" ")`, asserting 2 or 3
 *       columns (x, y, (z)).
 *     · `picasso/postprocess.py`, `undrift`: one row per frame, `t_inter = np.arange(Frames)`,
 *       x and y in camera pixels; `apply_drift` requires exactly `Frames` rows and indexes them
 *       by each localization's frame.
 *     · `picasso/postprocess.py`, `_apply_drift`: `locs["x"] -= drift["x"][frames]` (likewise y,
 *       and z when both have it). Picasso's z is in nm (`plot_drift` plots `drift.z` unscaled as
 *       "Drift (nm)"), so the z column is nm while x and y are pixels.
 *   Picasso SUBTRACTS its drift while ccdrift's drift is the correction to ADD, so the file
 *   holds the negated correction: x_px = −dx / pixelSizeNm, y_px = −dy / pixelSizeNm,
 *   z = −dz (nm). A −0 is written as 0.
 *
 * Both writes are atomic and refuse to overwrite any of `inputs`.
 */
import { promises as fs } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { DriftTrace } from '../core/types.js';
import { writeAtomically } from './atomic.js';

function checkLengths(trace: DriftTrace): number {
  const n = trace.t.length;
  for (const axis of ['x', 'y', 'z'] as const) {
    if (trace[axis].length !== n) {
      throw new RangeError(`drift trace: column ${axis} has ${trace[axis].length} samples, t has ${n}; they must be equal`);
    }
  }
  return n;
}

/** Write `t,x,y,z` (frames, nm; the correction to add), and `sd_x,sd_y,sd_z` (nm) when given, as CSV, atomically. Returns `path`. */
export async function writePerFrameDriftCsv(
  path: string,
  trace: DriftTrace,
  options: { inputs?: string[]; sd?: { x: Float64Array; y: Float64Array; z: Float64Array } } = {},
): Promise<string> {
  const n = checkLengths(trace);
  const sd = options.sd;
  const lines = [sd ? 't,x,y,z,sd_x,sd_y,sd_z' : 't,x,y,z'];
  for (let i = 0; i < n; i++) {
    lines.push(`${trace.t[i]},${trace.x[i]},${trace.y[i]},${trace.z[i]}` + (sd ? `,${sd.x[i]},${sd.y[i]},${sd.z[i]}` : ''));
  }
  const text = lines.join('\n') + '\n';
  await writeAtomically([path], ([temp]) => fs.writeFile(temp, text), options.inputs ?? []);
  return path;
}

/**
 * numpy's default `savetxt` format, C's `%.18e`: 19 significant digits and an exponent of at
 * least two digits. (`toExponential` rounds exact ties away from zero where glibc rounds them
 * to even; at 19 digits both texts parse back to the same float64.)
 */
export function formatPercentE18(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot write ${value} to a Picasso drift file: values must be finite`);
  const text = (value + 0).toExponential(18); // `+ 0` turns −0 into 0
  return text.replace(/e([+-])(\d)$/, 'e$10$2');
}

export interface PicassoDriftOptions {
  /** Camera pixel size in nm (Picasso's x, y are in pixels). */
  pixelSizeNm: number;
  /** 2: columns x, y; 3: columns x, y, z (z in nm). */
  dims: 2 | 3;
  /** Files that must not be overwritten. */
  inputs?: string[];
}

/**
 * Write a per-frame drift trace (t = 0, 1, …, n − 1, one row per frame of the movie) as
 * Picasso's `_drift.txt` (layout, units and sign as stated at the top of this file),
 * atomically. Returns `path`.
 */
export async function writePicassoDriftTxt(path: string, trace: DriftTrace, options: PicassoDriftOptions): Promise<string> {
  const { pixelSizeNm, dims } = options;
  if (!(pixelSizeNm > 0 && Number.isFinite(pixelSizeNm))) {
    throw new UsageError(`pixel size must be a positive number of nm for a Picasso drift file, got ${pixelSizeNm}`);
  }
  if (dims !== 2 && dims !== 3) throw new UsageError(`dims must be 2 or 3 for a Picasso drift file, got ${dims}`);
  const n = checkLengths(trace);
  for (let i = 0; i < n; i++) {
    if (trace.t[i] !== i) {
      throw new RangeError(
        `a Picasso drift file has one row per frame, 0, 1, …, n − 1 (Picasso indexes it by frame number), but ` +
          `sample ${i} is at t = ${trace.t[i]}: evaluate the drift interpolator at every frame first`,
      );
    }
  }
  const rows: string[] = [];
  for (let i = 0; i < n; i++) {
    const xPx = formatPercentE18(-trace.x[i] / pixelSizeNm);
    const yPx = formatPercentE18(-trace.y[i] / pixelSizeNm);
    rows.push(dims === 3 ? `${xPx} ${yPx} ${formatPercentE18(-trace.z[i])}\r\n` : `${xPx} ${yPx}\r\n`);
  }
  const text = rows.join('');
  await writeAtomically([path], ([temp]) => fs.writeFile(temp, text), options.inputs ?? []);
  return path;
}
