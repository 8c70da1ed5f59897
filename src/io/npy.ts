/**
 * Byte-level codec for numpy's `.npy` arrays and `.npz` archives (zip files of `.npy` members).
 * No `node:` imports: the browser app uses it on bytes it got from a file input.
 *
 * Format reference: numpy's `numpy/lib/format.py` (NEP 1). An `.npy` file is
 *   magic "\x93NUMPY", major and minor version bytes, header length (uint16 LE in 1.0,
 *   uint32 LE in 2.0 and 3.0), a Python dict literal `{'descr': '<f8', 'fortran_order':
 *   False, 'shape': (30, 3), }` padded with spaces and a newline, then the raw data.
 * Files written by Python 2 numpy spell integer shapes as longs, `(30L, 3L)`; the header
 * parser below accepts that, as numpy itself does.
 *
 * Arrays are returned in C order (last index fastest) whatever the file's `fortran_order`.
 * Object arrays (`|O`) would need unpickling, which ccdrift refuses for the same reason
 * `numpy.load(allow_pickle=False)` does: a pickle can run arbitrary code.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { InputError } from '../core/errors.js';

/** Element kinds ccdrift reads and writes, with their item sizes. */
const ITEM_SIZES: Record<string, number> = {
  f8: 8,
  f4: 4,
  i8: 8,
  i4: 4,
  i2: 2,
  i1: 1,
  u8: 8,
  u4: 4,
  u2: 2,
  u1: 1,
  b1: 1,
};

/** Typed arrays an `.npy` array is returned in (int64/uint64 are widened to float64). */
export type NpyData = Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;

/** A decoded `.npy` array, always in C order. */
export interface NpyArray {
  /** Element kind without byte order, e.g. 'f8', 'i4', 'b1' (as in the file). */
  dtype: string;
  shape: number[];
  /** Elements in C order (last index fastest). int64/uint64 arrive as float64 (exact up to 2^53). */
  data: NpyData;
}

/** What `buildNpy` writes: a typed array and its shape (C order). */
export interface NpyInput {
  data: Float64Array | Float32Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;
  shape: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

// ---------------------------------------------------------------------------------------------
// Header dict: a tiny parser for the Python literals numpy writes (dict, tuple, list, str,
// int with optional Python 2 'L' suffix, True/False/None).

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

function parsePythonLiteral(text: string, name: string): PyValue {
  let pos = 0;
  const fail = (what: string): never => {
    throw new InputError(`${name}: cannot parse the .npy header (${what} at character ${pos}): ${JSON.stringify(text.trim())}`);
  };
  const skipSpace = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };
  const parseValue = (): PyValue => {
    skipSpace();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const out: Record<string, PyValue> = {};
      for (;;) {
        skipSpace();
        if (text[pos] === '}') {
          pos++;
          return out;
        }
        const key = parseValue();
        if (typeof key !== 'string') fail('a dict key that is not a string');
        skipSpace();
        if (text[pos] !== ':') fail("':' expected");
        pos++;
        out[key as string] = parseValue();
        skipSpace();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== '}') fail("',' or '}' expected");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      pos++;
      const out: PyValue[] = [];
      for (;;) {
        skipSpace();
        if (text[pos] === close) {
          pos++;
          return out;
        }
        out.push(parseValue());
        skipSpace();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== close) fail(`',' or '${close}' expected`);
      }
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, pos + 1);
      if (end < 0) fail('unterminated string');
      const s = text.slice(pos + 1, end);
      pos = end + 1;
      return s;
    }
    const m = /^(-?\d+)[lL]?|^(True|False|None)\b/.exec(text.slice(pos));
    if (!m) return fail('unexpected text');
    pos += m[0].length;
    if (m[1] !== undefined) return Number(m[1]);
    return m[2] === 'True' ? true : m[2] === 'False' ? false : null;
  };
  const value = parseValue();
  skipSpace();
  if (pos !== text.length) fail('trailing text');
  return value;
}

// ---------------------------------------------------------------------------------------------
// .npy

interface Header {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  dataOffset: number;
}

function readHeader(bytes: Uint8Array, name: string): Header {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new InputError(`${name}: not a numpy .npy array (the file does not start with "\\x93NUMPY")`);
  }
  const major = bytes[6];
  const minor = bytes[7];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new InputError(`${name}: truncated .npy header`);
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new InputError(`${name}: .npy format version ${major}.${minor} is not supported (known: 1.0, 2.0, 3.0)`);
  }
  if (headerStart + headerLength > bytes.length) {
    throw new InputError(`${name}: truncated .npy file: the header says ${headerLength} bytes, ` + `only ${bytes.length - headerStart} remain`);
  }
  const raw = bytes.subarray(headerStart, headerStart + headerLength);
  // 1.0 and 2.0 headers are latin-1, 3.0 headers utf-8.
  let text = '';
  if (major === 3) text = new TextDecoder('utf-8').decode(raw);
  else for (let i = 0; i < raw.length; i++) text += String.fromCharCode(raw[i]);
  const dict = parsePythonLiteral(text, name);
  if (typeof dict !== 'object' || dict === null || Array.isArray(dict)) {
    throw new InputError(`${name}: the .npy header is not a dict: ${text.trim()}`);
  }
  const { descr, fortran_order: fortranOrder, shape } = dict as Record<string, PyValue>;
  if (Array.isArray(descr)) {
    throw new InputError(
      `${name}: structured (record) arrays are not supported in .npy files (descr ${JSON.stringify(descr)}); ` + 'save plain numeric arrays',
    );
  }
  if (typeof descr !== 'string') throw new InputError(`${name}: the .npy header has no 'descr' string: ${text.trim()}`);
  if (typeof fortranOrder !== 'boolean') {
    throw new InputError(`${name}: the .npy header has no 'fortran_order' True/False: ${text.trim()}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new InputError(`${name}: the .npy header has no valid 'shape' tuple: ${text.trim()}`);
  }
  return { descr, fortranOrder, shape: shape as number[], dataOffset: headerStart + headerLength };
}

function describeDtype(descr: string): { order: '<' | '>' | '|'; kind: string } {
  const m = /^([<>|=]?)([a-zA-Z]\d*)$/.exec(descr);
  if (!m) return { order: '|', kind: descr };
  // '=' is native order; every platform numpy runs on today is little-endian.
  const order = m[1] === '>' ? '>' : m[1] === '|' ? '|' : '<';
  return { order, kind: m[2] };
}

function unsupportedDtype(name: string, descr: string): never {
  if (/^[|<>=]?O\d*$/.test(descr)) {
    throw new InputError(
      `${name}: the array holds Python objects (dtype '${descr}'), stored as a pickle; ccdrift does not ` +
        'unpickle data (like numpy.load(allow_pickle=False)): save numeric arrays instead, e.g. ' +
        'numpy.savez(path, tIndex=np.asarray(t, float), drift=np.asarray(d, float))',
    );
  }
  throw new InputError(
    `${name}: unsupported .npy dtype '${descr}'; supported: float64, float32, int64, int32, int16, int8, ` +
      'uint64, uint32, uint16, uint8, bool (either byte order)',
  );
}

/** Copy `count` elements of `itemSize` bytes, reversing the bytes of each (big-endian input). */
function byteSwapped(src: Uint8Array, itemSize: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i += itemSize) {
    for (let b = 0; b < itemSize; b++) out[i + b] = src[i + itemSize - 1 - b];
  }
  return out;
}

function typedFromLittleEndian(kind: string, le: Uint8Array, count: number, name: string): NpyData {
  // `le` is a fresh, aligned copy (offset 0), so typed views on its buffer are safe.
  const buf = le.buffer as ArrayBuffer;
  switch (kind) {
    case 'f8':
      return new Float64Array(buf, 0, count);
    case 'f4':
      return new Float32Array(buf, 0, count);
    case 'i4':
      return new Int32Array(buf, 0, count);
    case 'i2':
      return new Int16Array(buf, 0, count);
    case 'i1':
      return new Int8Array(buf, 0, count);
    case 'u4':
      return new Uint32Array(buf, 0, count);
    case 'u2':
      return new Uint16Array(buf, 0, count);
    case 'u1':
    case 'b1':
      return new Uint8Array(buf, 0, count);
    case 'i8':
    case 'u8': {
      const big = kind === 'i8' ? new BigInt64Array(buf, 0, count) : new BigUint64Array(buf, 0, count);
      const out = new Float64Array(count);
      const limit = 2n ** 53n; // every integer up to 2^53 in magnitude is exact in float64
      for (let i = 0; i < count; i++) {
        const v = Number(big[i]);
        if (big[i] > limit || big[i] < -limit) {
          throw new InputError(
            `${name}: element ${i} (${big[i]}) of the ${kind === 'i8' ? 'int64' : 'uint64'} array is beyond ±2^53 ` + 'and cannot be represented exactly',
          );
        }
        out[i] = v;
      }
      return out;
    }
    default:
      throw new Error(`internal: no typed array for ${kind}`);
  }
}

/** Reorder Fortran-order (first index fastest) elements into C order (last index fastest). */
function fortranToC<T extends NpyData>(data: T, shape: number[]): T {
  const n = data.length;
  const nd = shape.length;
  if (nd < 2 || n === 0) return data;
  const out = new (data.constructor as new (n: number) => T)(n);
  // Fortran strides: stride[0] = 1, stride[k] = stride[k-1] * shape[k-1].
  const fStride = new Array<number>(nd);
  fStride[0] = 1;
  for (let k = 1; k < nd; k++) fStride[k] = fStride[k - 1] * shape[k - 1];
  const idx = new Array<number>(nd).fill(0);
  let src = 0;
  for (let c = 0; c < n; c++) {
    out[c] = data[src];
    // Advance the C-order multi-index (last axis fastest) and the Fortran offset with it.
    for (let k = nd - 1; k >= 0; k--) {
      idx[k]++;
      src += fStride[k];
      if (idx[k] < shape[k]) break;
      src -= fStride[k] * shape[k];
      idx[k] = 0;
    }
  }
  return out;
}

/** Decode one `.npy` file. `name` appears in error messages. */
export function parseNpy(bytes: Uint8Array, name = 'array.npy'): NpyArray {
  const header = readHeader(bytes, name);
  const { order, kind } = describeDtype(header.descr);
  const itemSize = ITEM_SIZES[kind];
  if (itemSize === undefined || (order === '|' && itemSize > 1)) unsupportedDtype(name, header.descr);
  const count = header.shape.reduce((a, b) => a * b, 1);
  const needed = count * itemSize;
  const available = bytes.length - header.dataOffset;
  if (available < needed) {
    throw new InputError(
      `${name}: truncated .npy data: shape (${header.shape.join(', ')}) of '${header.descr}' needs ${needed} bytes, ` + `the file holds ${available}`,
    );
  }
  const raw = bytes.subarray(header.dataOffset, header.dataOffset + needed);
  // A fresh copy (offset 0, aligned). Not `raw.slice()`: on a Node Buffer that is a view.
  const le = order === '>' && itemSize > 1 ? byteSwapped(raw, itemSize) : new Uint8Array(raw);
  let data = typedFromLittleEndian(kind, le, count, name);
  if (header.fortranOrder) data = fortranToC(data, header.shape);
  return { dtype: kind, shape: header.shape, data };
}

function descrOf(data: NpyInput['data']): string {
  if (data instanceof Float64Array) return '<f8';
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof Int32Array) return '<i4';
  if (data instanceof Int16Array) return '<i2';
  if (data instanceof Int8Array) return '|i1';
  if (data instanceof Uint32Array) return '<u4';
  if (data instanceof Uint16Array) return '<u2';
  return '|u1';
}

/**
 * Encode an array as `.npy` (format 1.0, or 2.0 when the header would not fit 1.0), with
 * the header padded so the data starts on a 64-byte boundary, as numpy writes it.
 */
export function buildNpy(array: NpyInput): Uint8Array {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) {
    throw new RangeError(`buildNpy: shape (${array.shape.join(', ')}) holds ${count} elements, data has ${array.data.length}`);
  }
  const shapeText = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  const dict = `{'descr': '${descrOf(array.data)}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let version = 1;
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    version = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const headerText = dict.padEnd(total - prefix - 1, ' ') + '\n';
  const dataBytes = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(total + dataBytes.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerText.length, true);
  else view.setUint32(8, headerText.length, true);
  for (let i = 0; i < headerText.length; i++) out[prefix + i] = headerText.charCodeAt(i);
  // Typed arrays are in platform order; every platform ccdrift runs on is little-endian.
  out.set(dataBytes, total);
  return out;
}

// ---------------------------------------------------------------------------------------------
// .npz

/** Decode every `.npy` member of an `.npz` archive (stored or deflated); keys lose their `.npy`. */
export function parseNpz(bytes: Uint8Array, name = 'arrays.npz', wanted?: readonly string[]): Map<string, NpyArray> {
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new InputError(`${name}: not an .npz archive (no zip signature "PK" at the start)`);
  }
  let members: Record<string, Uint8Array>;
  try {
    // `wanted`: decode only these keys, so other entries (strings, objects) do not stop a read.
    members = unzipSync(bytes, { filter: (f) => f.name.endsWith('.npy') && (!wanted || wanted.includes(f.name.slice(0, -'.npy'.length))) });
  } catch (err) {
    throw new InputError(`${name}: cannot read the zip archive (${(err as Error).message}); the file may be truncated`, {
      cause: err,
    });
  }
  const out = new Map<string, NpyArray>();
  for (const [member, data] of Object.entries(members)) {
    out.set(member.slice(0, -'.npy'.length), parseNpy(data, `${name}[${member}]`));
  }
  return out;
}

/** The keys (member names without `.npy`) of an `.npz` archive, without decoding any array. */
export function npzKeys(bytes: Uint8Array, name = 'arrays.npz'): string[] {
  const keys: string[] = [];
  try {
    unzipSync(bytes, {
      filter: (f) => {
        if (f.name.endsWith('.npy')) keys.push(f.name.slice(0, -'.npy'.length));
        return false;
      },
    });
  } catch (err) {
    throw new InputError(`${name}: cannot read the zip archive (${(err as Error).message}); the file may be truncated`, { cause: err });
  }
  return keys;
}

/** Encode arrays as a compressed (deflate) `.npz`, readable by `numpy.load(path, allow_pickle=False)`. */
export function buildNpz(arrays: Record<string, NpyInput>, options: { level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 } = {}): Uint8Array {
  const zippable: Zippable = {};
  for (const [key, array] of Object.entries(arrays)) zippable[`${key}.npy`] = buildNpy(array);
  return zipSync(zippable, { level: options.level ?? 6 });
}
