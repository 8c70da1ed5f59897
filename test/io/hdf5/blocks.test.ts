import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NumericArray } from '../../../src/core/types.js';
import { readPymeTable, writePymeTable } from '../../../src/io/hdf5/pymeTable.js';
import { findPython, runPython } from '../../helpers/fixtures.js';

const python = findPython('tables', 'numpy');
const noPython = 'skipped: no Python with PyTables (apt-get install python3-tables)';
/** Rows: several 8 MiB read blocks at 42 bytes per row (unaligned f8 members), and a partial last chunk. */
const ROWS = 600_001;
/** Float sums over 6e5 float32 values, accumulated in float64 by both sides in the same order. */
const SUM_TOL = 1e-6;

describe.skipIf(!python)(`tables larger than one block ${python ? '' : noPython}`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-blocks-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads a PyTables table across blocks and chunk boundaries, and PyTables reads ours back', async () => {
    const src = join(tmp, 'big.hdf');
    const stats = JSON.parse(
      runPython(
        python!,
        `
import sys, json, tables, numpy as np
n = int(sys.argv[2])
rng = np.random.default_rng(7)
a = np.zeros(n, dtype=[('x', '<f4'), ('y', '<f4'), ('t', '<i4'), ('id', '<i8'), ('s', '<i2'), ('w', '<f8'), ('A', '<f4'), ('b', '<f8')])
for k in ('x', 'y', 'A'): a[k] = rng.uniform(0, 5e4, n)
a['t'] = np.arange(n) // 7
a['id'] = rng.integers(-2**50, 2**50, n)
a['s'] = rng.integers(-30000, 30000, n)
a['w'] = rng.normal(0, 1, n); a['b'] = rng.normal(5, 1, n)
with tables.open_file(sys.argv[1], 'w') as f:
    f.create_table('/', 'Localizations', a, filters=tables.Filters(complevel=1, complib='zlib', shuffle=True), chunkshape=(3001,))
idx = [0, 1, 262143, 262144, 299999, n - 1]
print(json.dumps({'sum': {k: float(np.sum(a[k].astype('f8'))) for k in ('x', 'y', 'w', 'A')},
                  'at': {k: [a[k][i].item() for i in idx] for k in a.dtype.names}, 'idx': idx}))
`,
        [src, String(ROWS)],
      ),
    );
    const table = await readPymeTable(src);
    expect(table.length).toBe(ROWS);
    for (const [k, values] of Object.entries(stats.at as Record<string, number[]>)) {
      const col = table.columns.get(k)!;
      expect(
        (stats.idx as number[]).map((i) => col[i]),
        k,
      ).toEqual(values);
    }
    for (const [k, sum] of Object.entries(stats.sum as Record<string, number>)) {
      let s = 0;
      for (const v of table.columns.get(k)!) s += v;
      expect(Math.abs(s - sum) / Math.abs(sum), k).toBeLessThan(SUM_TOL);
    }

    const out = join(tmp, 'big_out.hdf');
    await writePymeTable([out], table, {}, out);
    const same = runPython(
      python!,
      `
import sys, tables, numpy as np
with tables.open_file(sys.argv[1]) as a, tables.open_file(sys.argv[2]) as b:
    print(a.root.Localizations.dtype == b.root.Localizations.dtype, np.array_equal(a.root.Localizations.read(), b.root.Localizations.read()))
`,
      [src, out],
    );
    expect(same.trim()).toBe('True True');
  }, 60_000);

  it('writes and reads an empty table', async () => {
    const out = join(tmp, 'empty.hdf');
    const empty = {
      length: 0,
      columns: new Map<string, NumericArray>([
        ['x', new Float32Array(0)],
        ['y', new Float32Array(0)],
        ['t', new Int32Array(0)],
      ]),
      metadata: {},
    };
    await writePymeTable([out], empty, {}, out);
    const back = await readPymeTable(out);
    expect(back.length).toBe(0);
    expect(runPython(python!, `import sys, tables\nwith tables.open_file(sys.argv[1]) as f: print(f.root.Localizations.nrows)`, [out]).trim()).toBe('0');
  });
});
