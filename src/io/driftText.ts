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
 * Both writes are atomic and refuse to overwrite any of `inputs`. The readers
 * (`parsePerFrameDriftCsv`, `parsePicassoDriftTxt`) take the same files back, and Picasso's
 * own: CRLF or LF, a `#` header line, one or more spaces or tabs between columns.
 */
import { param } from '../core/messageParams.js';
import { promises as fs } from 'node:fs';
import { InputError, UsageError } from '../core/errors.js';
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

/**
 * Write `t,x,y,z` (frames, nm; the correction to add), and `sd_x,sd_y,sd_z` (nm) when given, as
 * CSV, atomically. Returns `path`. With `frameBase: 1` the first column is `frame` = t + 1,
 * counting frames as a ThunderSTORM table does, so the file's frames match the table it was
 * measured on.
 */
export async function writePerFrameDriftCsv(
  path: string,
  trace: DriftTrace,
  options: { inputs?: string[]; frameBase?: 0 | 1; sd?: { x: Float64Array; y: Float64Array; z: Float64Array } } = {},
): Promise<string> {
  const n = checkLengths(trace);
  const base = options.frameBase === 1 ? 1 : 0;
  const sd = options.sd;
  const lines = [(base === 1 ? 'frame,x,y,z' : 't,x,y,z') + (sd ? ',sd_x,sd_y,sd_z' : '')];
  for (let i = 0; i < n; i++) {
    lines.push(`${trace.t[i] + base},${trace.x[i]},${trace.y[i]},${trace.z[i]}` + (sd ? `,${sd.x[i]},${sd.y[i]},${sd.z[i]}` : ''));
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

/** Lines of a text file without blank lines and `#` comments, with their 1-based line numbers. */
function dataLines(text: string): { line: string; lineNo: number }[] {
  const out: { line: string; lineNo: number }[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\n|\r/)
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line !== '' && !line.startsWith('#')) out.push({ line, lineNo: i + 1 });
    });
  return out;
}

function parseNumber(cell: string, name: string, lineNo: number, column: string): number {
  const v = Number(cell);
  if (cell === '' || !Number.isFinite(v)) throw new InputError(`${name}, line ${lineNo}, column ${column}: '${cell}' is not a finite number`);
  return v;
}

/**
 * Read Picasso's drift `.txt` (see the top of this file): one row per frame 0, 1, …, columns
 * x y [z], the drift Picasso SUBTRACTS, x and y in camera pixels, z in nm. Returns ccdrift's
 * per-frame trace (the correction to ADD, nm): x = −x_px · pixelSizeNm, z = −z.
 */
export function parsePicassoDriftTxt(text: string, name: string, pixelSizeNm: number | undefined): DriftTrace {
  const lines = dataLines(text);
  if (lines.length === 0) throw new InputError(`${name}: no drift rows; a Picasso drift file has one row 'x y' or 'x y z' per frame`);
  const width = lines[0].line.split(/[\s,]+/).length;
  if (width !== 2 && width !== 3) {
    throw new InputError(`${name}, line ${lines[0].lineNo}: ${width} columns; a Picasso drift file has 2 (x y, pixels) or 3 (x y z; z in nm)`);
  }
  if (!(pixelSizeNm !== undefined && pixelSizeNm > 0 && Number.isFinite(pixelSizeNm))) {
    throw new UsageError(
      `${name}: Picasso drift files are in camera pixels and the pixel size is unknown; it comes from ${param('pixelSizeNm')} (nm) or the Picasso .yaml of the corrected table`,
    );
  }
  const n = lines.length;
  const trace: DriftTrace = { t: new Float64Array(n), x: new Float64Array(n), y: new Float64Array(n), z: new Float64Array(n) };
  lines.forEach(({ line, lineNo }, i) => {
    const cells = line.split(/[\s,]+/);
    if (cells.length !== width) throw new InputError(`${name}, line ${lineNo}: ${cells.length} columns, the first row has ${width}; every row needs the same`);
    trace.t[i] = i;
    trace.x[i] = -parseNumber(cells[0], name, lineNo, 'x') * pixelSizeNm + 0;
    trace.y[i] = -parseNumber(cells[1], name, lineNo, 'y') * pixelSizeNm + 0;
    if (width === 3) trace.z[i] = -parseNumber(cells[2], name, lineNo, 'z') + 0;
  });
  return trace;
}

/**
 * Read ccdrift's per-frame CSV back: header `t,x,y,z` (t 0-based) or `frame,x,y,z` (frames
 * counted from 1, as ThunderSTORM tables do); x, y, z in nm (`x [nm]` is accepted), the
 * correction to ADD; z may be absent. Returns the trace (t 0-based) and the frame base.
 */
export function parsePerFrameDriftCsv(text: string, name: string): { trace: DriftTrace; frameBase: 0 | 1 } {
  const lines = dataLines(text);
  if (lines.length === 0) throw new InputError(`${name}: empty; a per-frame drift CSV starts with the header t,x,y,z`);
  const delimiter = lines[0].line.includes(',') ? ',' : lines[0].line.includes('\t') ? '\t' : ';';
  const header = lines[0].line.split(delimiter).map((h) =>
    h
      .trim()
      .replace(/^"|"$/g, '')
      .replace(/\s*\[nm\]$/i, '')
      .toLowerCase(),
  );
  const ti = header.indexOf('t') >= 0 ? header.indexOf('t') : header.indexOf('frame');
  const xi = header.indexOf('x');
  const yi = header.indexOf('y');
  const zi = header.indexOf('z');
  if (ti < 0 || xi < 0 || yi < 0) {
    throw new InputError(`${name}: header '${lines[0].line}'; a per-frame drift CSV has columns t (or frame, 1-based), x, y[, z] in nm`);
  }
  const frameBase = header[ti] === 'frame' ? 1 : 0;
  const rows = lines.slice(1);
  const n = rows.length;
  if (n === 0) throw new InputError(`${name}: a header but no rows`);
  const trace: DriftTrace = { t: new Float64Array(n), x: new Float64Array(n), y: new Float64Array(n), z: new Float64Array(n) };
  rows.forEach(({ line, lineNo }, i) => {
    const cells = line.split(delimiter).map((c) => c.trim());
    if (cells.length !== header.length) throw new InputError(`${name}, line ${lineNo}: ${cells.length} fields, the header has ${header.length}`);
    trace.t[i] = parseNumber(cells[ti], name, lineNo, header[ti]) - frameBase;
    trace.x[i] = parseNumber(cells[xi], name, lineNo, 'x');
    trace.y[i] = parseNumber(cells[yi], name, lineNo, 'y');
    if (zi >= 0) trace.z[i] = parseNumber(cells[zi], name, lineNo, 'z');
    if (i > 0 && !(trace.t[i] > trace.t[i - 1]))
      throw new InputError(`${name}, line ${lineNo}: frames must increase (${trace.t[i - 1] + frameBase} then ${trace.t[i] + frameBase})`);
  });
  return { trace, frameBase };
}
