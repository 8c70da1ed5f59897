/**
 * HDF5 attributes as PyTables writes and reads them, and PYME's metadata tree: `/MetaData`
 * with one group per dotted key prefix (`Camera.ROI` is attribute `ROI` of `/MetaData/Camera`).
 */
import type { Metadata, MetadataKind, MetaValue } from '../../core/types.js';
import { H5T, mallocChecked, type H5File, type H5Module } from './h5Library.js';
import { decodePickledText, encodePickle } from './pickledAttribute.js';
import { dtypeSize, type ColumnDtype } from './compoundTable.js';
import type { Attribute, AttributeValue, TableField } from './hdf5Writer.js';

/**
 * How a metadata value was stored, so a write-back stores it the same way: a scalar number's
 * exact dtype (int32 stays int32, float64 0.0 stays float64), a numpy bool, a string, a pickle;
 * 'int' / 'float' for numeric arrays (written back as pickles).
 */
export type AttrKind = MetadataKind;

const NUMERIC_KINDS = new Set<string>(['i1', 'u1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8', 'f4', 'f8']);

/** PyTables' bookkeeping attributes on every node; not user metadata. */
const SYSTEM_ATTRS = new Set(['CLASS', 'TITLE', 'VERSION', 'FILTERS', 'PYTABLES_FORMAT_VERSION']);

function scalarOf(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = Array.from(value as unknown as ArrayLike<number | bigint>, (v) => (typeof v === 'bigint' ? Number(v) : v));
    return arr.length === 1 ? arr[0] : arr;
  }
  if (typeof value === 'bigint') return Number(value);
  if (Array.isArray(value)) return value.length === 1 ? scalarOf(value[0]) : value.map(scalarOf);
  return value;
}

/**
 * Whether a protocol-0 pickle's outermost object is a tuple: its last opcode before STOP (and an
 * optional PUT `pN`) is TUPLE `t`. Arguments of protocol-0 opcodes end in a newline, so a `t`
 * right there is the opcode itself.
 */
function isPickledTuple(text: string): boolean {
  return /(^|[\n(latsd)N])t(p\d+\n)?\.$/.test(text);
}

/** One attribute as a metadata value, or undefined when it cannot be represented. */
export function readAttribute(module: H5Module, file: H5File, objPath: string, name: string): { value: MetaValue; kind: AttrKind } | undefined {
  const meta = module.get_attribute_metadata(file.file_id, objPath, name);
  const entity = file.get(objPath) as { get_attribute(n: string, json: boolean): unknown } | null;
  if (!entity) return undefined;
  if (meta.type === H5T.STRING) {
    const raw = meta.shape ? scalarOf(entity.get_attribute(name, false)) : '';
    const text = typeof raw === 'string' ? raw : Array.isArray(raw) ? raw.join(',') : String(raw ?? '');
    const unpickled = decodePickledText(text);
    // PyTables hands an ASCII-set string to Python as `bytes`, a UTF-8 one as `str`.
    if (unpickled === undefined) return { value: text, kind: meta.cset === 0 ? 'bytes' : 'string' };
    return { value: unpickled, kind: Array.isArray(unpickled) && isPickledTuple(text) ? 'tuple' : 'pickle' };
  }
  if (meta.type === H5T.BITFIELD && meta.size === 1 && meta.shape) {
    // numpy.bool_ as PyTables stores it: an 8-bit bitfield
    const raw = new Uint8Array(1);
    const ptr = mallocChecked(module, 1);
    try {
      module.get_attribute_data(file.file_id, objPath, name, BigInt(ptr));
      raw[0] = module.HEAPU8[ptr];
    } finally {
      module._free(ptr);
    }
    return meta.shape.length === 0 ? { value: raw[0] !== 0, kind: 'bool' } : undefined;
  }
  if (meta.type === H5T.INTEGER || meta.type === H5T.FLOAT || meta.type === H5T.ENUM) {
    if (!meta.shape) return undefined;
    const v = scalarOf(entity.get_attribute(name, false)) as number | number[];
    if (meta.type === H5T.ENUM && meta.size === 1 && typeof v === 'number') return { value: v !== 0, kind: 'bool' };
    if (typeof v === 'number' && [1, 2, 4, 8].includes(meta.size) && (meta.type !== H5T.FLOAT || meta.size >= 4)) {
      const kind = (meta.type === H5T.FLOAT ? `f${meta.size}` : `${meta.signed ? 'i' : 'u'}${meta.size}`) as ColumnDtype;
      return { value: v, kind };
    }
    return { value: v, kind: meta.type === H5T.FLOAT ? 'float' : 'int' };
  }
  return undefined;
}

/**
 * Write a scalar fixed-length string attribute with the UTF-8 character set, as PyTables does
 * for Python 3 `str` values (PyTables returns ASCII-set attributes as `bytes`, UTF-8 as `str`).
 * Pickles must be ASCII-set: PyTables only tries to unpickle `bytes` values ending in '.'.
 */
export function writeStringAttribute(module: H5Module, fileId: bigint, objPath: string, name: string, text: string, cset: 'utf8' | 'ascii' = 'utf8'): void {
  const bytes = Buffer.from(text, 'utf8');
  const size = Math.max(1, bytes.length);
  const ptr = mallocChecked(module, size);
  try {
    module.HEAPU8.fill(0, ptr, ptr + size);
    module.HEAPU8.set(bytes, ptr);
    module.create_attribute(fileId, objPath, name, BigInt(ptr), {
      type: H5T.STRING,
      size,
      signed: false,
      vlen: false,
      cset: cset === 'utf8' ? 1 : 0,
      littleEndian: true,
      shape: [],
      maxshape: [],
    } as never);
  } finally {
    module._free(ptr);
  }
}

/** Write a scalar numeric attribute of numpy dtype `dtype`. */
export function writeNumberAttribute(module: H5Module, fileId: bigint, objPath: string, name: string, value: number, dtype: ColumnDtype): void {
  const size = dtypeSize(dtype);
  const ptr = mallocChecked(module, 8);
  try {
    const dv = new DataView(module.HEAPU8.buffer, ptr, 8);
    const v = dtype.startsWith('f') ? value : Math.trunc(value);
    if (dtype === 'f8') dv.setFloat64(0, v, true);
    else if (dtype === 'f4') dv.setFloat32(0, v, true);
    else if (dtype === 'i8') dv.setBigInt64(0, BigInt(v), true);
    else if (dtype === 'u8') dv.setBigUint64(0, BigInt(v), true);
    else if (dtype === 'i4') dv.setInt32(0, v, true);
    else if (dtype === 'u4') dv.setUint32(0, v, true);
    else if (dtype === 'i2') dv.setInt16(0, v, true);
    else if (dtype === 'u2') dv.setUint16(0, v, true);
    else if (dtype === 'i1') dv.setInt8(0, v);
    else dv.setUint8(0, v);
    module.create_attribute(fileId, objPath, name, BigInt(ptr), {
      type: dtype.startsWith('f') ? H5T.FLOAT : H5T.INTEGER,
      size,
      signed: !dtype.startsWith('u'),
      vlen: false,
      littleEndian: true,
      shape: [],
      maxshape: [],
    } as never);
  } finally {
    module._free(ptr);
  }
}

/** The attributes PyTables puts on a group (and the root: its format version). */
export function writePyTablesGroupAttrs(module: H5Module, fileId: bigint, path: string): void {
  for (const attr of pyTablesGroupAttributes(path)) writeAttribute(module, fileId, path, attr);
}

/**
 * One of PyTables' own bookkeeping attributes (CLASS, TITLE, VERSION, FIELD_n_NAME, …), stored
 * as PyTables stores them: ASCII set, null-terminated.
 */
export function systemAttribute(name: string, text: string): Attribute {
  return { name, value: { kind: 'string', text, cset: 'ascii' } };
}

/** systemAttribute, written through h5wasm. */
export function writeSystemAttribute(module: H5Module, fileId: bigint, path: string, name: string, text: string): void {
  writeAttribute(module, fileId, path, systemAttribute(name, text));
}

/**
 * Read PYME's metadata tree under `groupPath` into flat dotted keys. Subgroups become key
 * prefixes; PyTables' bookkeeping attributes are skipped.
 */
export function readMetadataTree(module: H5Module, file: H5File, groupPath = '/MetaData'): Metadata {
  return readMetadataTreeWithKinds(module, file, groupPath).metadata;
}

/** readMetadataTree, with each key's storage kind (for LocTable/ImageStack.metadataKinds). */
export function readMetadataTreeWithKinds(module: H5Module, file: H5File, groupPath = '/MetaData'): { metadata: Metadata; kinds: Map<string, AttrKind> } {
  const metadata: Metadata = {};
  const kinds = new Map<string, AttrKind>();
  const visit = (path: string, prefix: string) => {
    const group = file.get(path) as { attrs: Record<string, unknown>; keys(): string[] } | null;
    if (!group || typeof group.keys !== 'function') return;
    for (const name of Object.keys(group.attrs)) {
      if (SYSTEM_ATTRS.has(name)) continue;
      const attr = readAttribute(module, file, path, name);
      if (!attr) continue;
      metadata[prefix + name] = attr.value;
      kinds.set(prefix + name, attr.kind);
    }
    for (const child of group.keys()) {
      const childPath = `${path === '/' ? '' : path}/${child}`;
      if (module.get_type(file.file_id, childPath) === module.H5G_GROUP) visit(childPath, `${prefix}${child}.`);
    }
  };
  if (module.get_type(file.file_id, groupPath) === module.H5G_GROUP) visit(groupPath, '');
  return { metadata, kinds };
}

/** Whether `value` is representable in integer dtype `dtype` (floats: always). */
function fitsDtype(value: number, dtype: ColumnDtype): boolean {
  if (dtype.startsWith('f')) return true;
  if (!Number.isInteger(value)) return false;
  const bits = 8 * dtypeSize(dtype);
  if (dtype.startsWith('u')) return value >= 0 && (bits === 64 || value < 2 ** bits);
  return bits === 64 || (value >= -(2 ** (bits - 1)) && value < 2 ** (bits - 1));
}

/** Only 7-bit characters (what an ASCII-set HDF5 string can hold). */
function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * How PyTables stores `value` as an attribute: the original kind when known (see AttrKind) —
 * bytes stay bytes while they are ASCII, a pickled tuple a tuple, a numpy bool a bool.
 */
export function metadataAttributeValue(value: MetaValue, kind: AttrKind | undefined): AttributeValue {
  const pickled = kind === 'pickle' || kind === 'tuple';
  if (typeof value === 'string' && !pickled) return { kind: 'string', text: value, cset: kind === 'bytes' && isAscii(value) ? 'ascii' : 'utf8' };
  if (typeof value === 'boolean' && kind === 'bool') return { kind: 'bool', value };
  if (typeof value === 'number' && !pickled) {
    if (kind !== undefined && NUMERIC_KINDS.has(kind)) {
      // The file's own dtype, unless the value no longer fits it (then the nearest wide type).
      const dtype = kind as ColumnDtype;
      return { kind: 'number', value, dtype: fitsDtype(value, dtype) ? dtype : Number.isSafeInteger(value) ? 'i8' : 'f8' };
    }
    const asInt = kind === 'int' || (kind === undefined && Number.isSafeInteger(value));
    return { kind: 'number', value, dtype: asInt ? 'i8' : 'f8' };
  }
  // booleans, None, lists, tuples and dicts: a protocol-0 pickle, which PyTables unpickles on read
  return { kind: 'string', text: encodePickle(value, { tuple: kind === 'tuple' }), cset: 'ascii' };
}

/** Write one planned attribute through h5wasm. */
export function writeAttribute(module: H5Module, fileId: bigint, path: string, attr: Attribute): void {
  const v = attr.value;
  if (v.kind === 'string') writeStringAttribute(module, fileId, path, attr.name, v.text, v.cset);
  // h5wasm cannot create bitfield or enum types: a numpy bool becomes a pickled Python bool
  else if (v.kind === 'bool') writeStringAttribute(module, fileId, path, attr.name, encodePickle(v.value), 'ascii');
  else writeNumberAttribute(module, fileId, path, attr.name, v.value, v.dtype);
}

/** The attributes PyTables puts on a group (and the root: its format version). */
export function pyTablesGroupAttributes(path: string): Attribute[] {
  const text = systemAttribute;
  return [text('CLASS', 'GROUP'), text('TITLE', ''), text('VERSION', '1.0'), ...(path === '/' ? [text('PYTABLES_FORMAT_VERSION', '2.1')] : [])];
}

/**
 * PYME's metadata tree for flat dotted `metadata`: every group under (and including)
 * `groupPath`, parents first, with its attributes (PyTables' group attributes, then the values,
 * each stored as its original kind when the metadata came from a PYME file).
 */
export function planMetadataTree(metadata: Metadata, groupPath = '/MetaData', kinds?: ReadonlyMap<string, AttrKind>): Map<string, Attribute[]> {
  const groups = new Map<string, Attribute[]>();
  const ensureGroup = (path: string): Attribute[] => {
    const known = groups.get(path);
    if (known) return known;
    const parent = path.slice(0, path.lastIndexOf('/')) || '/';
    if (parent !== '/') ensureGroup(parent);
    const attrs = pyTablesGroupAttributes(path);
    groups.set(path, attrs);
    return attrs;
  };
  ensureGroup(groupPath);
  for (const [key, value] of Object.entries(metadata)) {
    const parts = key.split('.').map((p) => p.replace(/\//g, '_'));
    const name = parts.pop()!;
    if (name === '' || parts.includes('') || SYSTEM_ATTRS.has(name)) continue;
    ensureGroup([groupPath, ...parts].join('/')).push({ name, value: metadataAttributeValue(value, kinds?.get(key)) });
  }
  return groups;
}

/**
 * Write flat dotted metadata as PYME's tree under `groupPath` (created here), restoring each
 * value's original storage kind when the metadata came from a PYME file.
 */
export function writeMetadataTree(module: H5Module, fileId: bigint, metadata: Metadata, groupPath = '/MetaData', kinds?: ReadonlyMap<string, AttrKind>): void {
  for (const [path, attrs] of planMetadataTree(metadata, groupPath, kinds)) {
    module.create_group(fileId, path, false);
    for (const attr of attrs) writeAttribute(module, fileId, path, attr);
  }
}

/**
 * The attributes that make a compound dataset a PyTables Table (readable and appendable by
 * `tables`): its class and version, each field's name and fill value, the row count.
 */
export function pyTablesTableAttributes(fields: readonly TableField[], rows: number): Attribute[] {
  const text = systemAttribute;
  const fill = (f: TableField): AttributeValue =>
    f.dtype.startsWith('S') ? { kind: 'string', text: '', cset: 'ascii' } : { kind: 'number', value: 0, dtype: f.dtype as ColumnDtype };
  return [
    text('CLASS', 'TABLE'),
    text('VERSION', '2.7'),
    text('TITLE', ''),
    text('FLAVOR', 'numpy'),
    ...fields.flatMap((f, i): Attribute[] => [text(`FIELD_${i}_NAME`, f.name), { name: `FIELD_${i}_FILL`, value: fill(f) }]),
    { name: 'NROWS', value: { kind: 'number', value: rows, dtype: 'i8' } },
  ];
}
