/**
 * Issue 9 req 1: /MetaData attributes keep their numeric type through a read and write-back of
 * a PYME table (int32 stays int32, float32 float32, float64 0.0 float64, uint16 uint16).
 * Needs h5py/PyTables to make the file and to look at the result; skips with a message without.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTable, writeTable } from '../../../src/io/index.js';
import { findPython, runPython } from '../../helpers/fixtures.js';

const python = findPython('tables', 'h5py', 'numpy');
if (!python) console.warn('skipped: attribute type round trip needs python3 with python3-tables and python3-h5py');

const MAKE = `
import sys, numpy as np, tables
a = np.zeros(10, dtype=[('x', '<f4'), ('y', '<f4'), ('t', '<i4')])
a['t'] = np.arange(10)
with tables.open_file(sys.argv[1], 'w') as f:
    f.create_table('/', 'Localizations', a)
    md = f.create_group('/', 'MetaData')
    cam = f.create_group(md, 'Camera')
    cam._v_attrs.ADOffset = np.float64(0.0)
    cam._v_attrs.TrueEMGain = np.float32(1.5)
    cam._v_attrs.ROIWidth = np.int32(320)
    cam._v_attrs.SerialNumber = np.int64(2**40)
    cam._v_attrs.Binning = np.uint16(2)
    md._v_attrs.Name = 'cell'
`;
const TYPES = `
import sys, json, h5py
out = {}
with h5py.File(sys.argv[1], 'r') as f:
    for k, v in f['MetaData/Camera'].attrs.items():
        if k not in ('CLASS', 'TITLE', 'VERSION'):
            out[k] = [v.dtype.str, v.item()]
print(json.dumps(out, sort_keys=True))
`;

describe.skipIf(!python)('metadata attribute types through a PYME table write-back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccdrift-attrs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('int32, uint16, int64, float32 and float64 0.0 keep their types and values', async () => {
    const input = join(dir, 'in.hdf');
    const output = join(dir, 'out.hdf');
    runPython(python!, MAKE, [input]);
    await writeTable(output, await readTable(input));
    const before = JSON.parse(runPython(python!, TYPES, [input]));
    const after = JSON.parse(runPython(python!, TYPES, [output]));
    expect(before.ADOffset[0]).toBe('<f8');
    expect(after).toEqual(before);
  });
});
