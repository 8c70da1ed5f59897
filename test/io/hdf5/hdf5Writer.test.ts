import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ColumnDtype, LocTable, NumericArray } from '../../../src/core/types.js';
import { readTable, registerTableFormat, writeTable } from '../../../src/io/formats.js';
import { deflateChunk } from '../../../src/io/hdf5/deflateChunk.js';
import { openForReading, openForWriting } from '../../../src/io/hdf5/h5Library.js';
import { lookup3, shuffledChunk, writeHdf5, type GroupNode, type TableField, type TableNode } from '../../../src/io/hdf5/hdf5Writer.js';
import { pymeTableFormat, pyTablesTableAttributes, readPymeTable } from '../../../src/io/hdf5/pymeTable.js';
import { pyTablesGroupAttributes, writeStringAttribute } from '../../../src/io/hdf5/attributes.js';
import { findPython, runPython } from '../../helpers/fixtures.js';

registerTableFormat(pymeTableFormat);
const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-h5writer-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const python = findPython('tables', 'h5py', 'numpy');
const noPython = 'skipped: no Python with PyTables and h5py (apt-get install python3-tables python3-h5py)';

/** A table with every column dtype, values that use all their bytes. */
function mixedTable(rows: number): LocTable {
  const columns = new Map<string, NumericArray>();
  const dtypes = new Map<string, ColumnDtype>();
  const add = (name: string, values: NumericArray, dtype: ColumnDtype) => {
    columns.set(name, values);
    dtypes.set(name, dtype);
  };
  const seq = (f: (i: number) => number) => Float64Array.from({ length: rows }, (_, i) => f(i));
  add(
    'x',
    Float32Array.from({ length: rows }, (_, i) => 1000 * Math.sin(i) + i / 7),
    'f4',
  );
  add(
    'y',
    seq((i) => 5000 * Math.cos(i * 1.3) - i / 3),
    'f8',
  );
  add(
    't',
    Int32Array.from({ length: rows }, (_, i) => i * 3 - 7),
    'i4',
  );
  add(
    'clumpIndex',
    seq((i) => i * 2 ** 33 + (i % 5) - 2 ** 40),
    'i8',
  );
  add(
    'probe',
    Uint8Array.from({ length: rows }, (_, i) => (i * 37) % 256),
    'u1',
  );
  add(
    'slice',
    Uint16Array.from({ length: rows }, (_, i) => (i * 4099) % 65536),
    'u2',
  );
  add(
    'neg',
    Int16Array.from({ length: rows }, (_, i) => -((i * 31) % 32768)),
    'i2',
  );
  add(
    'count',
    Uint32Array.from({ length: rows }, (_, i) => (i * 2654435761) % 2 ** 32),
    'u4',
  );
  // a float64 array stored as float32 (as a corrected float32 x is)
  add(
    'sig',
    seq((i) => 100 + i / 9),
    'f4',
  );
  return { length: rows, columns, dtypes, metadata: { 'voxelsize.x': 0.1, 'voxelsize.units': 'um', 'Camera.ROI': [1, 2, 3, 4], 'Analysis.Done': true } };
}

function expectSameTable(back: LocTable, table: LocTable): void {
  expect(back.length).toBe(table.length);
  for (const [name, values] of table.columns) {
    const dtype = table.dtypes!.get(name)!;
    const expected = dtype === 'f4' ? Float32Array.from(values) : values;
    expect(Array.from(back.columns.get(name)!), name).toEqual(Array.from(expected));
  }
}

describe('lookup3 (the checksum of HDF5 version-2 metadata)', () => {
  it("matches the reference values of Jenkins' lookup3.c", () => {
    const text = new TextEncoder().encode('Four score and seven years ago');
    expect(lookup3(new Uint8Array(0))).toBe(0xdeadbeef);
    expect(lookup3(text, 0)).toBe(0x17770551);
    expect(lookup3(text, 1)).toBe(0xcd628161);
  });

  it('matches the checksum HDF5 itself wrote into a superblock', async () => {
    const path = join(tmp, 'by-hdf5.h5');
    const { file, module } = await openForWriting(path);
    writeStringAttribute(module, file.file_id, '/', 'a', 'b');
    file.close();
    const bytes = readFileSync(path);
    expect(bytes[8]).toBeGreaterThanOrEqual(2); // superblock version 2 or 3: checksummed
    expect(lookup3(bytes.subarray(0, 44))).toBe(bytes.readUInt32LE(44));
  });
});

describe('shuffledChunk', () => {
  const naive = (fields: TableField[], start: number, chunkRows: number, rows: number) => {
    const sizes = fields.map((f) => Number(f.dtype.slice(1)));
    const rowBytes = sizes.reduce((a, b) => a + b, 0);
    const interleaved = new Uint8Array(chunkRows * rowBytes);
    const dv = new DataView(interleaved.buffer);
    for (let i = 0; i < Math.min(chunkRows, rows - start); i++) {
      let at = i * rowBytes;
      fields.forEach((f, k) => {
        const v = f.values[start + i];
        if (f.dtype === 'f4') dv.setFloat32(at, v, true);
        else if (f.dtype === 'f8') dv.setFloat64(at, v, true);
        else if (f.dtype === 'i8') dv.setBigInt64(at, BigInt(v), true);
        else if (f.dtype === 'i4') dv.setInt32(at, v, true);
        else if (f.dtype === 'u2') dv.setUint16(at, v, true);
        else dv.setUint8(at, v);
        at += sizes[k];
      });
    }
    // HDF5's shuffle: byte j of element i goes to j·n + i
    const out = new Uint8Array(interleaved.length);
    for (let i = 0; i < chunkRows; i++) for (let j = 0; j < rowBytes; j++) out[j * chunkRows + i] = interleaved[i * rowBytes + j];
    return { out, rowBytes, offsets: sizes.map((_, k) => sizes.slice(0, k).reduce((a, b) => a + b, 0)) };
  };
  const t = mixedTable(103);
  const fields: TableField[] = ['x', 'y', 't', 'clumpIndex', 'probe', 'slice'].map((name) => ({
    name,
    values: t.columns.get(name)!,
    dtype: t.dtypes!.get(name)!,
  }));

  it.each([
    [0, 16],
    [96, 16], // the last, partial chunk: the rest is the zero fill
    [0, 10], // rows not a multiple of 4: byte by byte
    [100, 10],
    [0, 103],
  ])("is HDF5's byte transposition (chunk from row %i, %i rows)", (start, chunkRows) => {
    const { out, rowBytes, offsets } = naive(fields, start, chunkRows, 103);
    expect(Array.from(shuffledChunk(fields, offsets, rowBytes, start, chunkRows, 103))).toEqual(Array.from(out));
  });
});

describe('PYME .hdf written by our writer', () => {
  it('round-trips every column dtype and the metadata through our reader (h5wasm)', async () => {
    const table = mixedTable(5000);
    const out = join(tmp, 'mixed.hdf');
    await writeTable(out, table);
    const back = await readTable(out);
    expectSameTable(back, table);
    expect(back.metadata['Camera.ROI']).toEqual([1, 2, 3, 4]);
    expect(back.metadata['Analysis.Done']).toBe(true);
    expect(back.dtypes).toEqual(table.dtypes);
  });

  it('writes an empty table', async () => {
    const table = mixedTable(0);
    const out = join(tmp, 'empty.hdf');
    await writeTable(out, table);
    const back = await readPymeTable(out);
    expect(back.length).toBe(0);
    expect([...back.columns.keys()]).toEqual([...table.columns.keys()]);
  });

  it('stores the table with shuffle then deflate (seen through HDF5 itself)', async () => {
    const out = join(tmp, 'filters.hdf');
    await writeTable(out, mixedTable(100));
    const { file } = await openForReading(out);
    try {
      const ds = file.get('/Localizations') as unknown as { filters: { id: number; cd_values: number[] }[] };
      expect(ds.filters.map((f) => f.id)).toEqual([2, 1]); // H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE
      expect(ds.filters[0].cd_values).toEqual([4 + 8 + 4 + 8 + 1 + 2 + 2 + 4 + 4]);
    } finally {
      file.close();
    }
  });

  it('falls back to h5wasm (deflate without shuffle) for what it does not encode: a 70 kB attribute', async () => {
    const table = mixedTable(50);
    table.metadata['Notes.Long'] = 'x'.repeat(70_000);
    const out = join(tmp, 'fallback.hdf');
    await writeTable(out, table);
    const back = await readTable(out);
    expectSameTable(back, table);
    expect(back.metadata['Notes.Long']).toBe(table.metadata['Notes.Long']);
    const { file } = await openForReading(out);
    try {
      expect((file.get('/Localizations') as unknown as { filters: { id: number }[] }).filters.map((f) => f.id)).toEqual([1]);
    } finally {
      file.close();
    }
  });

  it('a failing write (a full disk) rejects with that error', async () => {
    const table = mixedTable(20000);
    const fields: TableField[] = [...table.columns].map(([name, values]) => ({ name, values, dtype: table.dtypes!.get(name)! }));
    const root: GroupNode = {
      kind: 'group',
      attributes: pyTablesGroupAttributes('/'),
      children: new Map([
        [
          'Localizations',
          { kind: 'table', attributes: pyTablesTableAttributes(fields, 20000), fields, rows: 20000, chunkRows: 512, deflateLevel: 2 } as TableNode,
        ],
      ]),
    };
    let written = 0;
    const full = {
      async write(_data: Uint8Array, _o: number, length: number) {
        if (written + length > 100_000) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        written += length;
      },
    };
    await expect(writeHdf5(full, root, { deflate: deflateChunk, parallel: 4 })).rejects.toThrow(/ENOSPC/);
    // (through `ccdrift locs -o` on a real full disk: test/cli/robustness.test.ts, 'a full disk')
  });
});

describe('B-tree of many chunks (several levels), read and appended by HDF5', () => {
  const rows = 9000;
  const chunkRows = 8; // 1125 chunks: 18 leaves under a root of level 1
  const table = mixedTable(rows);
  const out = join(tmp, 'many-chunks.hdf');

  it("the browser build's deflate (fflate, web/src/shims/zlib.ts) writes a file HDF5 reads too", async () => {
    const { deflate } = await import('../../../web/src/shims/zlib.js');
    const fflateDeflate = (data: Uint8Array, level: number) =>
      new Promise<Uint8Array>((resolve, reject) => deflate(data, { level }, (err, out) => (err ? reject(err) : resolve(out))));
    const fields: TableField[] = [...table.columns].map(([name, values]) => ({ name, values, dtype: table.dtypes!.get(name)! }));
    const root: GroupNode = {
      kind: 'group',
      attributes: pyTablesGroupAttributes('/'),
      children: new Map([
        ['Localizations', { kind: 'table', attributes: pyTablesTableAttributes(fields, rows), fields, rows, chunkRows: 1000, deflateLevel: 2 } as TableNode],
      ]),
    };
    const path = join(tmp, 'fflate.hdf');
    const handle = await open(path, 'w');
    try {
      await writeHdf5(handle, root, { deflate: fflateDeflate });
    } finally {
      await handle.close();
    }
    expectSameTable(await readPymeTable(path), table);
  });

  it('is read back exactly by our reader', async () => {
    const fields: TableField[] = [...table.columns].map(([name, values]) => ({ name, values, dtype: table.dtypes!.get(name)! }));
    const root: GroupNode = {
      kind: 'group',
      attributes: pyTablesGroupAttributes('/'),
      children: new Map([
        ['Localizations', { kind: 'table', attributes: pyTablesTableAttributes(fields, rows), fields, rows, chunkRows, deflateLevel: 2 } as TableNode],
      ]),
    };
    const handle = await open(out, 'w');
    try {
      await writeHdf5(handle, root, { deflate: deflateChunk });
    } finally {
      await handle.close();
    }
    expectSameTable(await readPymeTable(out), table);
  });

  describe.skipIf(!python)(`by PyTables and h5py ${python ? '' : noPython}`, () => {
    it('PyTables reads rows anywhere, appends (splitting nodes), and h5py sees shuffle + deflate', async () => {
      const report = runPython(
        python!,
        `
import sys, json, tables, h5py, numpy as np
path = sys.argv[1]
res = {}
with tables.open_file(path, 'a') as f:
    t = f.root.Localizations
    data = t.read()
    res['rows'] = int(t.nrows)
    res['slices'] = bool(np.array_equal(t[4001:4019], data[4001:4019]) and np.array_equal(t[-1:], data[-1:]))
    for i in range(5):
        t.append(data[i * 1500:(i + 1) * 1500])
    t.flush()
    t.attrs.ADDED = 'after'
    res['nrows'] = int(t.nrows)
with h5py.File(path, 'r') as f:
    d = f['Localizations']
    p = d.id.get_create_plist()
    res['filters'] = [p.get_filter(i)[0] for i in range(p.get_nfilters())]
    res['chunks'] = list(d.chunks)
    all = d[:]
    res['appended'] = bool(np.array_equal(all[9000:], np.concatenate([all[:7500]])))
    res['x'] = [float(v) for v in all['x'][:3]]
    res['added'] = d.attrs['ADDED'].decode() if isinstance(d.attrs['ADDED'], bytes) else str(d.attrs['ADDED'])
print(json.dumps(res))
`,
        [out],
      );
      const x = table.columns.get('x')!;
      expect(JSON.parse(report)).toEqual({
        rows,
        slices: true,
        nrows: rows + 7500,
        filters: [2, 1],
        chunks: [chunkRows],
        appended: true,
        x: [x[0], x[1], x[2]],
        added: 'after',
      });
      // and our reader reads the file HDF5 extended
      const back = await readPymeTable(out);
      expect(back.length).toBe(rows + 7500);
      expect(Array.from(back.columns.get('t')!.subarray(rows, rows + 3))).toEqual([-7, -4, -1]);
    });
  });
});
