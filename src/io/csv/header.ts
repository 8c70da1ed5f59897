/**
 * A CSV header line: its delimiter, its names and units, and the plan that maps each column to
 * a table column (x, y, z, t and a correction's dx, dy, dz found by name, unit conversions to
 * nm and 0-based frames). The rules are stated once, in `../csv.ts`.
 */
import { param } from '../../core/messageParams.js';
import { InputError } from '../../core/errors.js';
import type { Metadata } from '../../core/types.js';
import type { TableReadOptions } from '../formats.js';

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

export const COORDINATES = ['x', 'y', 'z'] as const;
/**
 * A correction's columns (`dx [nm]`, `dx`): read like coordinates (to nm, under the name `dx`)
 * and written back under the input's header, so correcting a corrected file composes.
 */
export const CORRECTIONS = ['dx', 'dy', 'dz'] as const;

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
export function splitUnit(header: string): { base: string; unit?: string } {
  const m = /^(.*?)\s*\[([^\]]*)\]\s*$/.exec(header);
  return m ? { base: m[1], unit: m[2].trim() } : { base: header };
}

function coordinateScale(path: string, header: string, unit: string | undefined, pixelSizeNm: number | undefined): number {
  const u = (unit ?? 'nm').toLowerCase();
  if (u === 'nm' || u === 'nanometer' || u === 'nanometers') return 1;
  if (u === 'um' || u === 'µm' || u === 'μm' || u === 'micron' || u === 'microns') return 1000;
  if (u === 'px' || u === 'pixel' || u === 'pixels') {
    if (pixelSizeNm === undefined) {
      throw new InputError(`${path}: column '${header}' is in camera pixels, and no pixel size is known; ` + `give it with ${param('pixelSizeNm')} (nm)`);
    }
    return pixelSizeNm;
  }
  throw new InputError(`${path}: column '${header}' has unit '${unit}'; coordinates must be in nm, um (µm) or px (with ${param('pixelSizeNm')})`);
}

export interface ColumnPlan {
  header: string;
  /** Name in the LocTable ('' for an empty trailing header, whose cells are ignored). */
  name: string;
  /** Multiplies the parsed value (unit conversion), then `offset` is added. */
  scale: number;
  offset: number;
  /** x, y, z, t: must be finite. */
  required: boolean;
}

export interface Plan {
  delimiter: string;
  style: CsvStyle;
  quoted: boolean;
  columns: ColumnPlan[];
  metadata: Metadata;
}

export function planColumns(path: string, headerLine: string, options: Pick<TableReadOptions, 'pixelSizeNm'>): Plan {
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

/** The header line: UTF-8, or — when it is not valid UTF-8 — Latin-1 (e.g. 'x [µm]' saved by an old Windows tool). */
export function decodeHeader(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}
