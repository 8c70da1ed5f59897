/**
 * PyTables stores Python objects that are not numpy scalars or strings (tuples, lists, dicts,
 * Python 2 longs…) as pickles (protocol 0, plain text) in string attributes; PYME metadata is
 * full of them (`Camera.ROI = '(L770L\nL1076L\n…tp1\n.'`). Decoding follows PyTables' own rule:
 * a string ending in '.' may be a pickle; if it does not unpickle, it is text.
 */
import { Parser } from 'pickleparser';
import type { MetaValue } from '../../core/types.js';

const parser = new Parser();

/** pickleparser leaves the `\\uXXXX` escapes of protocol-0 unicode strings undecoded. */
function unescapeUnicode(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4: string | undefined, u8: string | undefined) =>
    String.fromCodePoint(parseInt(u4 ?? u8!, 16)),
  );
}

function toMetaValue(value: unknown): MetaValue | undefined {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return unescapeUnicode(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) {
    const out: MetaValue[] = [];
    for (const v of value) {
      const m = toMetaValue(v);
      if (m === undefined) return undefined;
      out.push(m);
    }
    return out;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, MetaValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const m = toMetaValue(v);
      if (m === undefined) return undefined;
      out[k] = m;
    }
    return out;
  }
  return undefined; // instances of Python classes: keep the text
}

/** The unpickled value of `text`, or undefined when it is not a pickle of plain data. */
export function decodePickledText(text: string): MetaValue | undefined {
  if (!text.endsWith('.') || text === '0' || text === '0.' || text.length < 2) return undefined;
  try {
    return toMetaValue(parser.parse(Buffer.from(text, 'latin1')));
  } catch {
    return undefined;
  }
}

/** Escape for the raw-unicode-escape `V` opcode; beyond ASCII too, so the pickle is pure ASCII. */
function escapeUnicode(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === '\n' || ch === '\r' || ch === '\0' || ch === '\x1a' || code > 0x7f) {
      out += code > 0xffff ? `\\U${code.toString(16).padStart(8, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out;
}

function encode(value: MetaValue, tuple = false): string {
  if (value === null) return 'N';
  if (typeof value === 'boolean') return value ? 'I01\n' : 'I00\n';
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return `I${value}\n`;
    return `F${Number.isNaN(value) ? 'nan' : value === Infinity ? 'inf' : value === -Infinity ? '-inf' : String(value)}\n`;
  }
  if (typeof value === 'string') return `V${escapeUnicode(value)}\n`;
  if (Array.isArray(value)) return `(${value.map((v) => encode(v)).join('')}${tuple ? 't' : 'l'}`;
  return `(${Object.entries(value)
    .map(([k, v]) => encode(k) + encode(v))
    .join('')}d`;
}

/**
 * A protocol-0 pickle of plain data (lists, dicts, numbers, strings, booleans, None); with
 * `tuple`, an outermost array is pickled as a tuple.
 */
export function encodePickle(value: MetaValue, { tuple = false }: { tuple?: boolean } = {}): string {
  return `${encode(value, tuple)}.`;
}
