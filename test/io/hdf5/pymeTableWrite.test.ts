import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTable, registerTableFormat, writeTable } from '../../../src/io/formats.js';
import { pymeTableFormat, readPymeTable, SHUFFLED_DEFLATE_LEVEL } from '../../../src/io/hdf5/pymeTable.js';
import { expectClose } from '../../helpers/expectClose.js';
import { findPython, fixturesDir, runPython } from '../../helpers/fixtures.js';

registerTableFormat(pymeTableFormat);
const dir = join(fixturesDir, 'hdf5');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
const EXACT = { rtol: 0, atol: 0 };
const python = findPython('tables', 'numpy');
const noPython = 'skipped: no Python with PyTables (apt-get install python3-tables)';

describe('writePymeTable', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-hdf5w-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('round-trips columns, dtypes and metadata through ccdrift itself', async () => {
    const table = await readTable(join(dir, 'pyme_locs.hdf'));
    const out = join(tmp, 'roundtrip.hdf');
    expect(await writeTable(out, table, { inputs: [join(dir, 'pyme_locs.hdf')] })).toEqual([out]);
    const back = await readTable(out);
    expect(back.length).toBe(table.length);
    expect([...back.columns.keys()]).toEqual([...table.columns.keys()]);
    for (const [name, values] of table.columns) {
      expect(back.columns.get(name)!.constructor, name).toBe(values.constructor);
      expectClose(back.columns.get(name)!, values, EXACT, name);
    }
    expect(back.metadata).toEqual(table.metadata);
  });

  it('converts .h5r nested results into a flat /Localizations table', async () => {
    const table = await readTable(join(dir, 'synthetic.h5r'));
    const out = join(tmp, 'from_h5r.hdf');
    await writeTable(out, table);
    const back = await readPymeTable(out);
    for (const col of ['x', 'y', 't', 'error_x', 'slicesUsed_x_start']) {
      expectClose(back.columns.get(col)!, expected.h5r[col], EXACT, col);
    }
  });

  it('refuses to overwrite its input, writing nothing', async () => {
    const table = await readTable(join(dir, 'pyme_locs.hdf'));
    const before = readdirSync(dir).sort();
    await expect(writeTable(join(dir, 'pyme_locs.hdf'), table, { inputs: [join(dir, 'pyme_locs.hdf')] })).rejects.toThrow(
      /refusing to overwrite the input file/,
    );
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('does not write .h5r (a raw analysis format)', async () => {
    const table = await readTable(join(dir, 'pyme_locs.hdf'));
    await expect(writeTable(join(tmp, 'x.h5r'), table)).rejects.toThrow(/use the \.hdf extension/);
    expect(existsSync(join(tmp, 'x.h5r'))).toBe(false);
  });

  describe.skipIf(!python)(`read back by PyTables ${python ? '' : noPython}`, () => {
    it('PyTables opens the table, sees identical columns, dtypes and metadata, and can append', async () => {
      const table = await readTable(join(dir, 'pyme_locs.hdf'));
      table.metadata['Analysis.Done'] = true;
      table.metadata['Notes.Multi'] = 'line1\nline2 \\ é';
      table.metadata['Notes.List'] = ['µm', 'a\nb', 1.5, null, { k: -2 }];
      const out = join(tmp, 'for_pytables.hdf');
      await writeTable(out, table, { provenance: { command: 'ccdrift locs', step: 2500 } });
      const report = runPython(
        python!,
        `
import sys, json, tables, numpy as np
src, out = sys.argv[1], sys.argv[2]
res = {}
with tables.open_file(src) as a, tables.open_file(out, 'a') as b:
    ta, tb = a.root.Localizations, b.root.Localizations
    res['class'] = tb._v_attrs.CLASS if isinstance(tb, tables.Table) else type(tb).__name__
    res['names'] = list(tb.colnames) == list(ta.colnames)
    res['dtypes'] = str(tb.dtype) == str(ta.dtype)
    res['equal'] = bool(np.array_equal(ta.read(), tb.read()))
    res['filters'] = str(tb.filters.complib) + str(tb.filters.complevel) + (' shuffle' if tb.filters.shuffle else '')
    md = b.root.MetaData
    res['roi'] = list(md.Camera._v_attrs.ROI)
    res['roiwidth'] = int(md.Camera._v_attrs.ROIWidth)
    res['vs'] = float(md.voxelsize._v_attrs.x)
    res['units'] = str(md.voxelsize._v_attrs.units)
    res['name'] = str(md.Camera._v_attrs.Name)
    res['done'] = md.Analysis._v_attrs.Done is True
    res['multi'] = md.Notes._v_attrs.Multi
    res['list'] = md.Notes._v_attrs.List
    res['prov'] = int(md.ccdrift._v_attrs.step)
    n = tb.nrows
    tb.append(ta.read()[:5])
    tb.flush()
    res['appended'] = int(tb.nrows - n)
print(json.dumps(res))
`,
        [join(dir, 'pyme_locs.hdf'), out],
      );
      expect(JSON.parse(report)).toEqual({
        class: 'TABLE',
        names: true,
        dtypes: true,
        equal: true,
        filters: `zlib${SHUFFLED_DEFLATE_LEVEL} shuffle`, // as PyTables stores PYME tables (src/io/hdf5/hdf5Writer.ts)
        roi: [770, 1076, 1090, 1374],
        roiwidth: 320,
        vs: 0.1,
        units: 'um',
        name: 'Andor sCMOS',
        done: true,
        multi: 'line1\nline2 \\ é',
        list: ['µm', 'a\nb', 1.5, null, { k: -2 }],
        prov: 2500,
        appended: 5,
      });
      // and ccdrift reads the file PyTables appended to
      const back = await readPymeTable(out);
      expect(back.length).toBe(205);
      expect(back.metadata['Notes.List']).toEqual(['µm', 'a\nb', 1.5, null, { k: -2 }]);
      expect(back.metadata['Analysis.Done']).toBe(true);
    });
  });
});
