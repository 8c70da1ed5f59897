/**
 * PYME's acquisition events: the `/Events` table of `.h5` stacks and `.h5r` / `.hdf` results,
 * rows of (EventName S32, EventDescr S256, Time f8). They record what the microscope did
 * (`StartAq`, protocol tasks, focus steps of a z stack, `ShiftMeasure`…), so a corrected file
 * keeps them: read here, written back unchanged, as PyTables lays them out.
 */
import { InputError } from '../../core/errors.js';
import type { AcquisitionEvent } from '../../core/types.js';
import { pyTablesTableAttributes, writeAttribute } from './attributes.js';
import type { TableField, TableNode } from './hdf5Writer.js';
import type { TypeMetadata } from './compoundTable.js';
import { H5S_UNLIMITED, H5T, mallocChecked, type H5File, type H5Module } from './h5Library.js';

const EVENTS_PATH = '/Events';
/** PYME's field widths (bytes) of the event name and description. */
const NAME_BYTES = 32;
const DESCR_BYTES = 256;
/** H5T_TIME: PyTables' Time64Col is stored as this class, a float64 of seconds. */
const H5T_TIME = 2;

/** Bytes of a fixed-length string member up to its first NUL (the padding), as text. */
function fixedString(bytes: Uint8Array, cset: number | undefined): string {
  let end = bytes.indexOf(0);
  if (end < 0) end = bytes.length;
  return new TextDecoder(cset === 1 ? 'utf-8' : 'latin1').decode(bytes.subarray(0, end)).replace(/ +$/, '');
}

/**
 * The events of an open file, or undefined when it has no `/Events` table. An `/Events` that is
 * not PYME's layout is an error naming what was found (never silently dropped from the output).
 */
export function readEvents(module: H5Module, file: H5File, path: string): AcquisitionEvent[] | undefined {
  if (module.get_type(file.file_id, EVENTS_PATH) !== module.H5G_DATASET) return undefined;
  const meta = module.get_dataset_metadata(file.file_id, EVENTS_PATH) as unknown as TypeMetadata & { shape: number[] | null; cset?: number };
  const members = (meta.compound_type?.members ?? []) as (TypeMetadata & { cset?: number })[];
  const find = (name: string) => members.find((m) => m.name === name);
  const name = find('EventName');
  const descr = find('EventDescr');
  const time = find('Time');
  const layoutOk =
    meta.type === H5T.COMPOUND &&
    meta.shape?.length === 1 &&
    name?.type === H5T.STRING &&
    descr?.type === H5T.STRING &&
    time !== undefined &&
    (time.type === H5T.FLOAT || time.type === H5T_TIME) &&
    time.size === 8;
  if (!layoutOk) {
    throw new InputError(
      `${path}: /Events is not PYME's event table (EventName, EventDescr strings and a float64 Time); ` +
        `found ${members.length ? members.map((m) => `${m.name} (class ${m.type}, ${m.size} B)`).join(', ') : `a dataset of class ${meta.type}`}`,
    );
  }
  const rows = meta.shape![0];
  if (rows === 0) return [];
  const bytes = rows * meta.size;
  const ptr = mallocChecked(module, bytes);
  try {
    module.get_dataset_data(file.file_id, EVENTS_PATH, [BigInt(rows)], [0n], [1n], BigInt(ptr));
    const heap = module.HEAPU8;
    const dv = new DataView(heap.buffer, heap.byteOffset + ptr, bytes);
    const events: AcquisitionEvent[] = [];
    for (let r = 0; r < rows; r++) {
      const row = ptr + r * meta.size;
      events.push({
        name: fixedString(heap.subarray(row + name.offset!, row + name.offset! + name.size), name.cset),
        description: fixedString(heap.subarray(row + descr.offset!, row + descr.offset! + descr.size), descr.cset),
        time: dv.getFloat64(r * meta.size + time.offset!, time.littleEndian !== false),
      });
    }
    return events;
  } finally {
    module._free(ptr);
  }
}

/** Text as a NUL-padded fixed-length field; longer text is cut at a whole character. */
function putFixed(heap: Uint8Array, at: number, width: number, text: string): void {
  let bytes = new TextEncoder().encode(text);
  if (bytes.length > width) {
    let cut = width;
    while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--; // not inside a UTF-8 sequence
    bytes = bytes.subarray(0, cut);
  }
  heap.fill(0, at, at + width);
  heap.set(bytes, at);
}

/** The events as the fields of PYME's table, in PyTables' order (EventDescr, EventName, Time). */
function eventFields(events: readonly AcquisitionEvent[]): TableField[] {
  const descr = new Uint8Array(events.length * DESCR_BYTES);
  const name = new Uint8Array(events.length * NAME_BYTES);
  events.forEach((e, r) => {
    putFixed(descr, r * DESCR_BYTES, DESCR_BYTES, e.description);
    putFixed(name, r * NAME_BYTES, NAME_BYTES, e.name);
  });
  return [
    { name: 'EventDescr', values: descr, dtype: `S${DESCR_BYTES}` },
    { name: 'EventName', values: name, dtype: `S${NAME_BYTES}` },
    { name: 'Time', values: Float64Array.from(events, (e) => e.time), dtype: 'f8' },
  ];
}

/** `/Events` for our own HDF5 writer (hdf5Writer.ts): a small PyTables table, shuffled and deflated. */
export function eventsTableNode(events: readonly AcquisitionEvent[]): TableNode {
  const fields = eventFields(events);
  const rowBytes = DESCR_BYTES + NAME_BYTES + 8;
  return {
    kind: 'table',
    attributes: pyTablesTableAttributes(fields, events.length),
    fields,
    rows: events.length,
    // A multiple of 4 rows (the writer's shuffle), about 64 KiB a chunk.
    chunkRows: 4 * Math.max(1, Math.floor((64 << 10) / rowBytes / 4)),
    deflateLevel: 2,
  };
}

/**
 * Write `events` as PYME's `/Events` PyTables table (fields in PyTables' order: EventDescr,
 * EventName, Time), readable by PYME, PyTables and h5py.
 */
export function writeEvents(module: H5Module, fileId: bigint, events: readonly AcquisitionEvent[]): void {
  const rowBytes = DESCR_BYTES + NAME_BYTES + 8;
  const str = (name: string, offset: number, size: number) => ({
    name,
    offset,
    type: H5T.STRING,
    size,
    signed: false,
    vlen: false,
    cset: 0,
    littleEndian: true,
  });
  const members = [
    str('EventDescr', 0, DESCR_BYTES),
    str('EventName', DESCR_BYTES, NAME_BYTES),
    { name: 'Time', offset: DESCR_BYTES + NAME_BYTES, type: H5T.FLOAT, size: 8, signed: true, vlen: false, littleEndian: true },
  ];
  const chunkRows = Math.max(1, Math.min(Math.max(events.length, 1), Math.floor((64 << 10) / rowBytes)));
  const ptr = mallocChecked(module, Math.max(1, events.length) * rowBytes);
  try {
    const heap = module.HEAPU8;
    heap.fill(0, ptr, ptr + rowBytes);
    module.create_dataset(fileId, EVENTS_PATH, BigInt(ptr), {
      type: H5T.COMPOUND,
      size: rowBytes,
      signed: false,
      vlen: false,
      littleEndian: true,
      compound_type: { members, nmembers: members.length },
      shape: [0n],
      maxshape: [H5S_UNLIMITED],
      chunks: [BigInt(chunkRows)],
      compression: 0,
      compression_opts: [],
      track_order: false,
    } as never);
    if (events.length) {
      module.resize_dataset(fileId, EVENTS_PATH, [BigInt(events.length)]);
      const h = module.HEAPU8;
      const dv = new DataView(h.buffer, h.byteOffset + ptr, events.length * rowBytes);
      events.forEach((e, r) => {
        const row = ptr + r * rowBytes;
        putFixed(h, row, DESCR_BYTES, e.description);
        putFixed(h, row + DESCR_BYTES, NAME_BYTES, e.name);
        dv.setFloat64(r * rowBytes + DESCR_BYTES + NAME_BYTES, e.time, true);
      });
      module.set_dataset_data(fileId, EVENTS_PATH, [BigInt(events.length)], [0n], [1n], BigInt(ptr));
    }
  } finally {
    module._free(ptr);
  }
  for (const attr of pyTablesTableAttributes(eventFields(events), events.length)) writeAttribute(module, fileId, EVENTS_PATH, attr);
}
