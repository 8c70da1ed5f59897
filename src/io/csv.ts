/**
 * Localization tables as delimited text: ThunderSTORM's CSV export and generic tables.
 *
 * Reading rules (what a microscopist would expect, stated once):
 * - The first non-blank line is the header; its delimiter (comma, tab or semicolon) is sniffed
 *   from it: the most frequent of the three outside quotes (ties: comma, tab, semicolon).
 *   Header names may be quoted ("x [nm]", as ThunderSTORM writes them) or not.
 * - A header `name [unit]` carries a unit. Coordinates `x`, `y`, `z` (any case) are converted
 *   to nm: `nm` ×1, `um`/`µm`/`μm` ×1000, `px`/`pixel` × `pixelSizeNm` (required then). A
 *   coordinate header without a unit is taken as nm.
 * - Style: a table whose header has any `[unit]` is **ThunderSTORM style**, else **plain**.
 * - Time: a `t` column is the 0-based frame index as is. Without `t`, a `frame` column is
 *   ThunderSTORM's 1-based frame number (t = frame − 1) in ThunderSTORM style, and taken as a
 *   0-based frame index (Picasso's and PYME's convention) in plain style.
 * - `dx`, `dy`, `dz` (a correction ccdrift added earlier, `dx [nm]` in ThunderSTORM style) are
 *   read like coordinates, so a second correction composes with the first.
 * - Other columns are kept, unchanged, under their header text (`sigma [nm]`, `id`, …).
 *   Empty, `NaN` or `inf` cells are allowed there; x, y, t (and z) must be finite.
 * - With a semicolon delimiter a decimal comma (`1,5`) is accepted.
 *
 * Writing reproduces the input's style from the `ccdrift.csv.*` metadata the reader records:
 * the original header names and order, ThunderSTORM's 1-based `frame` (frame = t + 1),
 * quoting. Coordinates are always written in nm (a `x [um]` input comes back as `x [nm]`).
 * Columns the input did not have (e.g. `dx`, `dy`, `dz` from a correction) are appended, in
 * ThunderSTORM style with their unit (`dx [nm]`). Tables from other formats are written in
 * plain style (`x,y,z,t,…`). Numbers: float64 as the shortest text that parses back to the
 * same value (integers therefore without a decimal point), float32 as the shortest text that
 * parses back to the same float32, integer columns as integers. `.tsv` targets use tabs.
 *
 * Large files are streamed: read in chunks and parsed line by line into growable
 * Float64Arrays (a 10^7-row file never exists as one string), and written in blocks.
 */
import { writeFully } from './atomic.js';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError, UsageError } from '../core/errors.js';
import type { LocTable, Metadata, NumericArray, ProgressReporter } from '../core/types.js';
import type { TableFormat, TableReadOptions, TableWriteOptions } from './formats.js';
import { conventionOf, toConvention } from './columnConventions.js';
import { MAX_NUMBER_BYTES, POW10, formatFloat32, writeFloat32, writeFloat64 } from './csvNumbers.js';

/** Metadata keys the reader records so the writer can reproduce the input's style. */
export const CSV_META = {
  style: 'ccdrift.csv.style',
  /** Header names in file order, as written in the file. */
  headers: 'ccdrift.csv.headers',
  /** For x, y, z, t: the header each came from, e.g. { x: 'x [nm]', t: 'frame' }. */
  sourceHeaders: 'ccdrift.csv.sourceHeaders',
  /** 1 when the time column counts frames from 1 (ThunderSTORM `frame`), else 0. */
  frameBase: 'ccdrift.csv.frameBase',
  delimiter: 'ccdrift.csv.delimiter',
  quotedHeader: 'ccdrift.csv.quotedHeader',
} as const;

export type CsvStyle = 'thunderstorm' | 'plain';

export interface CsvReadOptions extends TableReadOptions {
  /** Bytes read per chunk (tests use small chunks to exercise line boundaries). @default 4 MiB */
  chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 4 << 20;
const WRITE_BLOCK_ROWS = 16384;
/** Bytes collected before each write. */
const WRITE_BUFFER_BYTES = 1 << 20;
const COORDINATES = ['x', 'y', 'z'] as const;
/**
 * A correction's columns (`dx [nm]`, `dx`): read like coordinates (to nm, under the name `dx`)
 * and written back under the input's header, so correcting a corrected file composes.
 */
const CORRECTIONS = ['dx', 'dy', 'dz'] as const;
/** Columns known to be in nm, labelled `[nm]` when appended to a ThunderSTORM-style table. */
const NM_COLUMNS = new Set(['x', 'y', 'z', 'dx', 'dy', 'dz']);

// ---------------------------------------------------------------------------------------------
// Header

/**
 * One cell's text. Short ASCII cells are built directly: a TextDecoder call per cell costs
 * ~10 µs in browsers (the app reads the same files through this parser), far more than the
 * cell itself; other text goes through the decoder.
 */
function decodeCell(decoder: TextDecoder, bytes: Uint8Array, from: number, to: number): string {
  if (to - from > 64) return decoder.decode(bytes.subarray(from, to));
  let s = '';
  for (let i = from; i < to; i++) {
    const b = bytes[i];
    if (b >= 128) return decoder.decode(bytes.subarray(from, to));
    s += String.fromCharCode(b);
  }
  return s;
}

/** Split a header line, honouring double quotes ("" inside quotes is a quote). */
function splitHeader(line: string, delimiter: string): { names: string[]; quoted: boolean } {
  const names: string[] = [];
  let quoted = false;
  let i = 0;
  for (;;) {
    while (i < line.length && (line[i] === ' ' || (line[i] === '\t' && delimiter !== '\t'))) i++;
    let cell = '';
    if (line[i] === '"') {
      quoted = true;
      i++;
      for (;;) {
        if (i >= line.length) break;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            cell += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        cell += line[i++];
      }
      const next = line.indexOf(delimiter, i);
      i = next < 0 ? line.length : next;
    } else {
      const next = line.indexOf(delimiter, i);
      const end = next < 0 ? line.length : next;
      cell = line.slice(i, end).trim();
      i = end;
    }
    names.push(cell);
    if (i >= line.length) break;
    i += delimiter.length;
  }
  return { names, quoted };
}

function sniffDelimiter(line: string): string {
  const counts = new Map<string, number>([
    [',', 0],
    ['\t', 0],
    [';', 0],
  ]);
  let inQuotes = false;
  for (const ch of line) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

/** `x [nm]` → { base: 'x', unit: 'nm' }; `id` → { base: 'id' }. */
function splitUnit(header: string): { base: string; unit?: string } {
  const m = /^(.*?)\s*\[([^\]]*)\]\s*$/.exec(header);
  return m ? { base: m[1], unit: m[2].trim() } : { base: header };
}

function coordinateScale(path: string, header: string, unit: string | undefined, pixelSizeNm: number | undefined): number {
  const u = (unit ?? 'nm').toLowerCase();
  if (u === 'nm' || u === 'nanometer' || u === 'nanometers') return 1;
  if (u === 'um' || u === 'µm' || u === 'μm' || u === 'micron' || u === 'microns') return 1000;
  if (u === 'px' || u === 'pixel' || u === 'pixels') {
    if (pixelSizeNm === undefined) {
      throw new InputError(
        `${path}: column '${header}' is in camera pixels, and no pixel size is known; ` +
          'give it with --pixel-size <nm> (pixelSizeNm)',
      );
    }
    return pixelSizeNm;
  }
  throw new InputError(
    `${path}: column '${header}' has unit '${unit}'; coordinates must be in nm, um (µm) or px (with --pixel-size)`,
  );
}

interface ColumnPlan {
  header: string;
  /** Name in the LocTable ('' for an empty trailing header, whose cells are ignored). */
  name: string;
  /** Multiplies the parsed value (unit conversion), then `offset` is added. */
  scale: number;
  offset: number;
  /** x, y, z, t: must be finite. */
  required: boolean;
}

interface Plan {
  delimiter: string;
  style: CsvStyle;
  quoted: boolean;
  columns: ColumnPlan[];
  metadata: Metadata;
}

function planColumns(path: string, headerLine: string, options: CsvReadOptions): Plan {
  const delimiter = sniffDelimiter(headerLine);
  const { names, quoted } = splitHeader(headerLine, delimiter);
  // A delimiter at the end of every line leaves an empty last header: ignore that column.
  const hasTrailingEmpty = names.length > 1 && names[names.length - 1] === '';
  const real = hasTrailingEmpty ? names.slice(0, -1) : names;
  real.forEach((h, i) => {
    if (h === '') throw new InputError(`${path}: header column ${i + 1} has no name; every column needs a header`);
  });
  const split = real.map(splitUnit);
  const style: CsvStyle = split.some((s) => s.unit !== undefined) ? 'thunderstorm' : 'plain';

  const roleOf = new Map<number, 'x' | 'y' | 'z' | 't' | 'dx' | 'dy' | 'dz'>();
  for (const axis of [...COORDINATES, ...CORRECTIONS]) {
    const i = split.findIndex((s) => s.base.toLowerCase() === axis);
    if (i >= 0) roleOf.set(i, axis);
  }
  let tIndex = split.findIndex((s) => s.base.toLowerCase() === 't');
  let frameBase = 0;
  if (tIndex < 0) {
    tIndex = split.findIndex((s) => s.base.toLowerCase() === 'frame');
    if (tIndex >= 0 && style === 'thunderstorm') frameBase = 1;
  }
  if (tIndex >= 0) roleOf.set(tIndex, 't');

  const found = real.map((h) => `'${h}'`).join(', ');
  for (const [axis, hint] of [
    ['x', "'x', 'x [nm]', 'x [um]' or 'x [px]'"],
    ['y', "'y', 'y [nm]', 'y [um]' or 'y [px]'"],
    ['t', "'t' (0-based frame) or 'frame' (1-based in ThunderSTORM files)"],
  ] as const) {
    if (![...roleOf.values()].includes(axis)) {
      throw new InputError(`${path}: no ${axis} column (columns found: ${found}); expected a header ${hint}`);
    }
  }

  const sourceHeaders: Record<string, string> = {};
  const columns: ColumnPlan[] = real.map((header, i) => {
    const role = roleOf.get(i);
    if (role === 't') {
      sourceHeaders.t = header;
      return { header, name: 't', scale: 1, offset: -frameBase, required: true };
    }
    if (role) {
      sourceHeaders[role] = header;
      const required = !(CORRECTIONS as readonly string[]).includes(role);
      return { header, name: role, scale: coordinateScale(path, header, split[i].unit, options.pixelSizeNm), offset: 0, required };
    }
    return { header, name: header, scale: 1, offset: 0, required: false };
  });
  const seen = new Set<string>();
  for (const c of columns) {
    if (seen.has(c.name)) {
      throw new InputError(`${path}: two columns are named '${c.name}' (columns found: ${found}); rename one`);
    }
    seen.add(c.name);
  }
  if (hasTrailingEmpty) columns.push({ header: '', name: '', scale: 1, offset: 0, required: false });

  const metadata: Metadata = {
    [CSV_META.style]: style,
    [CSV_META.headers]: real,
    [CSV_META.sourceHeaders]: sourceHeaders,
    [CSV_META.frameBase]: frameBase,
    [CSV_META.delimiter]: delimiter,
    [CSV_META.quotedHeader]: quoted,
  };
  return { delimiter, style, quoted, columns, metadata };
}

// ---------------------------------------------------------------------------------------------
// Rows

const SPECIAL_VALUES = new Map<string, number>([
  ['nan', NaN],
  ['+nan', NaN],
  ['-nan', NaN],
  ['inf', Infinity],
  ['+inf', Infinity],
  ['infinity', Infinity],
  ['+infinity', Infinity],
  ['-inf', -Infinity],
  ['-infinity', -Infinity],
]);


/**
 * bytes[start, end) as text when it is short and plain ASCII (a number with many digits: far
 * cheaper than a TextDecoder call per cell), else undefined.
 */
function asciiText(bytes: Uint8Array, start: number, end: number): string | undefined {
  if (end - start > 32) return undefined;
  for (let i = start; i < end; i++) if (bytes[i] >= 128) return undefined;
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/** Parses data lines into growable Float64Arrays, one per column. */
class RowParser {
  private readonly data: Float64Array[];
  private readonly ncols: number;
  private readonly decoder = new TextDecoder('utf-8');
  private readonly delimiterCode: number;
  length = 0;

  constructor(
    private readonly path: string,
    private readonly plan: Plan,
    capacity: number,
  ) {
    this.ncols = plan.columns.length;
    this.delimiterCode = plan.delimiter.charCodeAt(0);
    this.data = plan.columns.map(() => new Float64Array(Math.max(16, capacity)));
  }

  ensureCapacity(rows: number): void {
    if (rows <= this.data[0].length) return;
    const capacity = Math.max(rows, Math.ceil(this.data[0].length * 1.5));
    for (let c = 0; c < this.ncols; c++) {
      const grown = new Float64Array(capacity);
      grown.set(this.data[c].subarray(0, this.length));
      this.data[c] = grown;
    }
  }

  /**
   * Parse bytes[start, end) (one line without its newline). Works on UTF-8 bytes: delimiters,
   * digits and newlines are ASCII and never occur inside a multi-byte character.
   */
  row(bytes: Uint8Array, start: number, end: number, lineNo: number): void {
    if (this.length === this.data[0].length) this.ensureCapacity(this.length + 1);
    const delimiterCode = this.delimiterCode;
    const n = this.length;
    const last = this.ncols - 1;
    let pos = start;
    for (let c = 0; c <= last; c++) {
      // Fast path: [-+]digits[.digits] with at most 15 significant digits is m / 10^k with m
      // and 10^k exact doubles, so one division gives the correctly rounded value (Clinger's
      // fast path), identical to Number(text).
      let i = pos;
      let ch = bytes[i];
      let negative = false;
      if (ch === 45 || ch === 43) {
        negative = ch === 45;
        ch = bytes[++i];
      }
      let mantissa = 0;
      let significant = 0;
      let fraction = 0;
      let dot = false;
      let anyDigit = false;
      for (; i < end; ch = bytes[++i]) {
        if (ch >= 48 && ch <= 57) {
          if (mantissa !== 0 || ch !== 48) significant++;
          mantissa = mantissa * 10 + (ch - 48);
          if (dot) fraction++;
          anyDigit = true;
        } else if (ch === 46 && !dot) {
          dot = true;
        } else break;
      }
      let v: number;
      let next: number;
      if (anyDigit && significant <= 15 && fraction <= 22 && (i === end ? c === last : ch === delimiterCode && c < last)) {
        v = fraction === 0 ? mantissa : mantissa / POW10[fraction];
        if (negative) v = -v;
        next = i;
      } else {
        next = end;
        if (c < last) {
          next = bytes.indexOf(delimiterCode, pos);
          if (next < 0 || next >= end) this.ragged(bytes, start, end, lineNo);
        }
        const cell = asciiText(bytes, pos, next) ?? decodeCell(this.decoder, bytes, pos, next);
        v = +cell;
        // `+''` and `+'  '` are 0 and non-numbers are NaN: both go the slow, careful way.
        if (v !== v || (v === 0 && cell.trim() === '')) v = this.slowCell(cell, c, lineNo, bytes, start, end);
        else if (this.plan.columns[c].required && v - v !== 0) this.badCoordinate(cell, c, lineNo);
      }
      this.data[c][n] = v;
      pos = next + 1;
    }
    this.length = n + 1;
  }

  private slowCell(cell: string, c: number, lineNo: number, bytes: Uint8Array, start: number, end: number): number {
    const col = this.plan.columns[c];
    if (c === this.ncols - 1 && cell.includes(this.plan.delimiter)) this.ragged(bytes, start, end, lineNo);
    let s = cell.trim();
    if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).trim();
    let v: number;
    if (s === '') v = NaN;
    else {
      v = +s;
      if (v !== v && this.plan.delimiter === ';' && /^[+-]?\d*,\d*(?:[eE][+-]?\d+)?$/.test(s)) v = +s.replace(',', '.');
      if (v !== v) {
        const special = SPECIAL_VALUES.get(s.toLowerCase());
        if (special === undefined) {
          throw new InputError(`${this.path}, line ${lineNo}, column '${col.header}': '${cell}' is not a number`);
        }
        v = special;
      }
    }
    if (col.name === '') return NaN; // ignored trailing column
    if (col.required && v - v !== 0) this.badCoordinate(cell, c, lineNo);
    return v;
  }

  private badCoordinate(cell: string, c: number, lineNo: number): never {
    const col = this.plan.columns[c];
    const what = cell.trim() === '' ? 'is empty' : `is '${cell.trim()}'`;
    throw new InputError(
      `${this.path}, line ${lineNo} (localization ${this.length + 1}): ${col.header} ${what}; every localization needs ` +
        'finite x, y, t (and z when present): fix or remove that row',
    );
  }

  private ragged(bytes: Uint8Array, start: number, end: number, lineNo: number): never {
    const fields = this.decoder.decode(bytes.subarray(start, end)).split(this.plan.delimiter).length;
    const expected = this.plan.columns.length;
    throw new InputError(
      `${this.path}, line ${lineNo}: ${fields} field${fields === 1 ? '' : 's'}, the header has ${expected} ` +
        `(${this.plan.columns.map((c) => c.header || '(empty)').join(', ')}); every row needs one value per column`,
    );
  }

  /** The finished columns, trimmed to length and converted to nm / 0-based frames. */
  finish(): Map<string, NumericArray> {
    const out = new Map<string, NumericArray>();
    this.plan.columns.forEach((col, c) => {
      if (col.name === '') return;
      // The capacity came from an estimate of the row count: within 10% a view (no copy of
      // every column at the end), else a trimmed copy.
      const full = this.data[c];
      const d = full.length <= this.length * 1.1 + 16 ? full.subarray(0, this.length) : full.slice(0, this.length);
      if (col.scale !== 1 || col.offset !== 0) {
        for (let i = 0; i < d.length; i++) d[i] = d[i] * col.scale + col.offset;
      }
      out.set(col.name, d);
    });
    return out;
  }
}

/** Files that are not text, by their first bytes: named so the user knows what they gave. */
const BINARY_SIGNATURES: [number[], string][] = [
  [[0x89, 0x48, 0x44, 0x46], 'an HDF5 file (give it the extension .hdf5 or .h5r)'],
  [[0x50, 0x4b, 0x03, 0x04], 'a zip archive (an .npz file?)'],
  [[0x49, 0x49, 0x2a, 0x00], 'a TIFF image (use `ccdrift images`)'],
  [[0x4d, 0x4d, 0x00, 0x2a], 'a TIFF image (use `ccdrift images`)'],
  [[0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 'a numpy .npy array'],
  [[0x1f, 0x8b], 'a gzip-compressed file (decompress it first: gunzip)'],
];

/**
 * Refuse, by the first chunk, a file that is not UTF-8 (or ASCII) text: UTF-16 (byte-order
 * mark or NUL bytes between ASCII letters), a known binary format, or bytes no text has.
 */
function checkTextBytes(path: string, head: Uint8Array): void {
  for (const [sig, what] of BINARY_SIGNATURES) {
    if (sig.every((b, i) => head[i] === b)) throw new InputError(`${path}: this is ${what}, not CSV text`);
  }
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
  const n = Math.min(head.length, TEXT_SNIFF_BYTES);
  let nul = 0;
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = head[i];
    if (b === 0) nul++;
    else if (b < 9 || (b > 13 && b < 32 && b !== 27) || b === 127) control++;
  }
  if (utf16 || (n >= 4 && nul >= n / 4 && nul <= (3 * n) / 4 && (head[0] === 0 || head[1] === 0))) {
    throw new InputError(
      `${path}: the file is UTF-16 text${utf16 ? ` (byte-order mark ${head[0].toString(16).toUpperCase()} ${head[1].toString(16).toUpperCase()})` : ''}; ` +
        'CSV is read as UTF-8: save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8 in.csv > out.csv)',
    );
  }
  if (nul > 0 || control > n / 100) {
    throw new InputError(`${path}: the file is binary, not CSV text (${nul} NUL and ${control} control bytes in its first ${n}); expected text such as x,y,t`);
  }
}
const TEXT_SNIFF_BYTES = 64 * 1024;

/** The header line: UTF-8, or — when it is not valid UTF-8 — Latin-1 (e.g. 'x [µm]' saved by an old Windows tool). */
function decodeHeader(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

/** Read a localization table from CSV/TSV text (see the rules at the top of this file). */
export async function readCsvTable(path: string, options: CsvReadOptions = {}): Promise<LocTable> {
  if (options.pixelSizeNm !== undefined && !(options.pixelSizeNm > 0 && Number.isFinite(options.pixelSizeNm))) {
    throw new UsageError(`pixel size must be a positive number of nm, got ${options.pixelSizeNm}`);
  }
  const chunkBytes = Math.max(1, options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(`${path}: no such file`, { cause: err });
    throw err;
  }
  try {
    const fileBytes = (await fh.stat()).size;
    let bytesDone = 0;
    options.progress?.start?.('reading', fileBytes);
    // buf[0, filled) holds bytes not yet parsed: at most one partial line plus a fresh chunk.
    let buf = new Uint8Array(2 * chunkBytes);
    let filled = 0;
    let lineNo = 0;
    let plan: Plan | null = null;
    let parser: RowParser | null = null;
    for (;;) {
      if (buf.length - filled < chunkBytes) {
        const grown = new Uint8Array(filled + 2 * chunkBytes); // a line longer than a chunk
        grown.set(buf.subarray(0, filled));
        buf = grown;
      }
      const { bytesRead } = await fh.read(buf, filled, chunkBytes, null);
      if (bytesDone === 0) checkTextBytes(path, buf.subarray(0, bytesRead));
      bytesDone += bytesRead;
      options.progress?.update?.(bytesDone);
      const eof = bytesRead === 0;
      filled += bytesRead;
      let start = 0; // (a byte-order mark is dropped by the decoder when the header is decoded)
      const stop = eof ? filled : buf.lastIndexOf(10, filled - 1) + 1;
      while (start < stop) {
        let nl = buf.indexOf(10, start);
        if (nl < 0 || nl >= stop) nl = stop;
        let end = nl;
        if (end > start && buf[end - 1] === 13) end--;
        lineNo++;
        // A byte-order mark before the header (the decoder would drop it, but the blank test would not).
        if (!parser && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
        let blank = true;
        for (let i = start; i < end && blank; i++) blank = buf[i] === 32 || buf[i] === 9;
        if (!blank) {
          if (!parser) {
            plan = planColumns(path, decodeHeader(buf.subarray(start, end)), options);
            // Size the columns from the line length in this first chunk: few or no reallocations.
            let lines = 0;
            for (let i = buf.indexOf(10, start); i >= 0 && i < filled; i = buf.indexOf(10, i + 1)) lines++;
            const bytesPerLine = Math.max(2, filled / Math.max(1, lines));
            const estimate = Math.ceil((fileBytes / bytesPerLine) * 1.05) + 16;
            parser = new RowParser(path, plan, Math.min(estimate, Math.ceil(fileBytes / 2) + 16));
          } else {
            parser.row(buf, start, end, lineNo);
          }
        }
        start = nl + 1;
      }
      buf.copyWithin(0, stop, filled);
      filled -= stop;
      if (eof) break;
    }
    if (!parser || !plan) throw new InputError(`${path}: the file is empty; expected a header row such as x,y,t`);
    const columns = parser.finish();
    const tCol = plan.columns.find((c) => c.name === 't');
    if (tCol && tCol.offset === -1) {
      // ThunderSTORM numbers frames from 1; a frame 0 says this file does not.
      const t = columns.get('t')!;
      let lowest = Infinity;
      for (let i = 0; i < t.length; i++) if (t[i] < lowest) lowest = t[i];
      if (lowest < 0) {
        options.progress?.warn?.(
          `${path}: column '${tCol.header}' has frame ${lowest + 1}, but ThunderSTORM numbers frames from 1 (read as t = frame − 1, so t = ${lowest}); ` +
            `if this file numbers frames from 0, rename the column to 't'`,
        );
      }
    }
    return { length: parser.length, columns, metadata: plan.metadata, convention: plan.style === 'thunderstorm' ? 'thunderstorm' : 'pyme' };
  } finally {
    options.progress?.stop?.();
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

function quoteHeader(h: string, delimiter: string, always: boolean): string {
  return always || h.includes(delimiter) || h.includes('"') || h.includes('\n') ? `"${h.replace(/"/g, '""')}"` : h;
}

interface OutColumn {
  header: string;
  data: NumericArray;
  add: number;
}

function str(meta: Metadata, key: string): string | undefined {
  const v = meta[key];
  return typeof v === 'string' ? v : undefined;
}

function outputColumns(table: LocTable): { columns: OutColumn[]; quoted: boolean; delimiter?: string } {
  const meta = table.metadata;
  const style: CsvStyle = str(meta, CSV_META.style) === 'thunderstorm' ? 'thunderstorm' : 'plain';
  const rawSources = meta[CSV_META.sourceHeaders];
  const sources: Record<string, string> =
    rawSources && typeof rawSources === 'object' && !Array.isArray(rawSources)
      ? Object.fromEntries(Object.entries(rawSources).filter((e): e is [string, string] => typeof e[1] === 'string'))
      : {};
  const frameBase = meta[CSV_META.frameBase] === 1 ? 1 : 0;
  const columns: OutColumn[] = [];
  for (const [name, data] of table.columns) {
    let header = name;
    let add = 0;
    const source = sources[name];
    if (name === 't') {
      header = source ?? 't';
      add = source ? frameBase : 0;
    } else if (([...COORDINATES, ...CORRECTIONS] as readonly string[]).includes(name) && source) {
      // Values are nm now: keep the input's header when it said nm or nothing, else relabel.
      const { base, unit } = splitUnit(source);
      header = unit === undefined || unit.toLowerCase() === 'nm' ? source : `${base} [nm]`;
    } else if (style === 'thunderstorm' && !source && NM_COLUMNS.has(name)) {
      header = `${name} [nm]`;
    }
    columns.push({ header, data, add });
  }
  return { columns, quoted: meta[CSV_META.quotedHeader] === true, delimiter: str(meta, CSV_META.delimiter) };
}

/** Write bytes[0, length) in full (a write may take fewer bytes than asked). */
/**
 * Write `table` as delimited text to `path` (not atomic by itself: `writeTable` and the
 * format registry hand a temporary path). `target` (default `path`) picks the delimiter:
 * tab for `.tsv`, else the input's comma or semicolon, else comma.
 */
export async function writeCsvTable(
  path: string,
  source: LocTable,
  target: string = path,
  progress?: ProgressReporter,
): Promise<void> {
  // A ThunderSTORM table stays ThunderSTORM; any other is written plain, with PYME's names in nm.
  const table = conventionOf(source) === 'thunderstorm' ? source : toConvention(source, 'pyme');
  const { columns, quoted, delimiter: inputDelimiter } = outputColumns(table);
  const delimiter =
    extname(target).toLowerCase() === '.tsv' ? '\t' : inputDelimiter === ';' || inputDelimiter === ',' ? inputDelimiter : ',';
  for (const c of columns) {
    if (c.data.length !== table.length) {
      throw new RangeError(`table column '${c.header}' has ${c.data.length} values, the table ${table.length} rows`);
    }
  }
  const ncols = columns.length;
  const data = columns.map((c) => c.data);
  const add = columns.map((c) => c.add);
  // float32 columns get their own shortest rule; anything else is written as String(v) would.
  const float32 = columns.map((c) => c.data instanceof Float32Array);
  const delimiterCode = delimiter.charCodeAt(0);
  // Rows go as bytes into one buffer, written out when the next row might not fit.
  const rowBytes = ncols * (MAX_NUMBER_BYTES + 1) + 1;
  const out = new Uint8Array(Math.max(WRITE_BUFFER_BYTES, 2 * rowBytes));
  const limit = out.length - rowBytes;
  const fh = await open(path, 'w');
  progress?.start?.('writing', table.length);
  try {
    await writeFully(fh, columns.map((c) => quoteHeader(c.header, delimiter, quoted)).join(delimiter) + '\n');
    let pos = 0;
    for (let block = 0; block < table.length; block += WRITE_BLOCK_ROWS) {
      const stop = Math.min(table.length, block + WRITE_BLOCK_ROWS);
      for (let i = block; i < stop; i++) {
        if (pos > limit) {
          await writeFully(fh, out.subarray(0, pos));
          pos = 0;
        }
        for (let c = 0; c < ncols; c++) {
          if (c > 0) out[pos++] = delimiterCode;
          const v = data[c][i] + add[c];
          if (!float32[c]) pos = writeFloat64(out, pos, v);
          else if (add[c] === 0) pos = writeFloat32(out, pos, v);
          else {
            const text = formatFloat32(v);
            for (let j = 0; j < text.length; j++) out[pos++] = text.charCodeAt(j);
          }
        }
        out[pos++] = 10;
      }
      progress?.update?.(stop);
    }
    if (pos > 0) await writeFully(fh, out.subarray(0, pos));
  } finally {
    progress?.stop?.();
    await fh.close();
  }
}

/** The CSV/TSV table format for the registry (`src/io/index.ts`). */
export const csvFormat: TableFormat = {
  name: 'CSV (ThunderSTORM / generic)',
  extensions: ['.csv', '.tsv'],
  read: (path: string, options: TableReadOptions) => readCsvTable(path, options),
  write: (temporaryPaths: string[], table: LocTable, options: TableWriteOptions, target: string) =>
    writeCsvTable(temporaryPaths[0], table, target, options.progress),
};
