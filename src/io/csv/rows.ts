/**
 * A CSV file's data lines, parsed from UTF-8 bytes into growable Float64Arrays, one per column,
 * by the plan its header gave (`header.ts`).
 */
import { InputError } from '../../core/errors.js';
import type { NumericArray } from '../../core/types.js';
import { POW10 } from '../csvNumbers.js';
import type { Plan } from './header.js';

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
export class RowParser {
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
