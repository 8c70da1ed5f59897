import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/core/errors.js';
import type { LocTable } from '../../src/core/types.js';
import { CSV_META, csvFormat, readCsvTable, writeCsvTable } from '../../src/io/csv.js';
import { findPython, fixturesDir, runPython } from '../helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-csv-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
/** Write `text` to a fresh temporary file and return its path. */
function csvFile(text: string, ext = '.csv'): string {
  const path = join(tmp, `t${counter++}${ext}`);
  writeFileSync(path, text);
  return path;
}
const col = (t: LocTable, name: string) => Array.from(t.columns.get(name) ?? []);
const python = findPython('numpy');
if (!python) console.warn('skipped: no Python with numpy found (findPython("numpy"))');

const thunderstormPath = join(fixturesDir, 'csv', 'thunderstorm.csv');
const thunderstormHeader =
  '"id","frame","x [nm]","y [nm]","z [nm]","sigma [nm]","intensity [photon]","offset [photon]","bkgstd [photon]","uncertainty_xy [nm]"';

describe('readCsvTable: ThunderSTORM export', () => {
  it('maps frame (1-based) to t, keeps nm, carries the other columns under their header text', async () => {
    const t = await readCsvTable(thunderstormPath);
    expect(t.length).toBe(4);
    expect([...t.columns.keys()]).toEqual([
      'id',
      't',
      'x',
      'y',
      'z',
      'sigma [nm]',
      'intensity [photon]',
      'offset [photon]',
      'bkgstd [photon]',
      'uncertainty_xy [nm]',
    ]);
    expect(col(t, 't')).toEqual([0, 0, 1, 4]);
    expect(col(t, 'x')).toEqual([5034.391532, 8012.5, 5031.0, 0.001]);
    expect(col(t, 'y')).toEqual([10870.24061, 402.25, 10868.75, 99999.999]);
    expect(col(t, 'z')).toEqual([-120.5, 15.0, -118.25, 0]);
    expect(col(t, 'uncertainty_xy [nm]')).toEqual([7.35, 10.125, 6.5, 15.0]);
    expect(t.metadata[CSV_META.style]).toBe('thunderstorm');
    expect(t.metadata[CSV_META.headers]).toEqual(thunderstormHeader.split(',').map((h) => h.slice(1, -1)));
  });

  it('writes back the same headers (quoted), frame = t + 1, values that parse to the same numbers', async () => {
    const t = await readCsvTable(thunderstormPath);
    const out = join(tmp, 'ts-out.csv');
    await writeCsvTable(out, t);
    const lines = readFileSync(out, 'utf8').split('\n');
    expect(lines[0]).toBe(thunderstormHeader);
    expect(lines[1]).toBe('1,1,5034.391532,10870.24061,-120.5,142.1,1520.3,31.2,9.1,7.35');
    expect(lines[4]).toBe('4,5,0.001,99999.999,0,150,600,30,8,15');
    const back = await readCsvTable(out);
    for (const [name, data] of t.columns) expect(col(back, name), name).toEqual(Array.from(data));
  });

  it('appends columns the input lacked, with [nm] for dx, dy, dz', async () => {
    const t = await readCsvTable(thunderstormPath);
    t.columns.set('dx', new Float64Array([1.5, 2, 3, 4]));
    t.columns.set('dy', new Float64Array(4));
    t.columns.set('dz', new Float64Array(4));
    t.columns.set('cluster', new Int32Array([7, 7, 8, 8]));
    const out = join(tmp, 'ts-dx.csv');
    await writeCsvTable(out, t);
    const [header, row1] = readFileSync(out, 'utf8').split('\n');
    expect(header).toBe(`${thunderstormHeader},"dx [nm]","dy [nm]","dz [nm]","cluster"`);
    expect(row1.endsWith(',1.5,0,0,7')).toBe(true);
    // Read back as the correction `dx` (nm), so a second correction composes with it …
    const back = await readCsvTable(out);
    expect(col(back, 'dx')).toEqual([1.5, 2, 3, 4]);
    expect(back.columns.has('dx [nm]')).toBe(false);
    // … and written again under the same header, once (issue 13: it was duplicated).
    back.columns.set(
      'dx',
      Float64Array.from(back.columns.get('dx')!, (v) => v + 1),
    );
    const again = join(tmp, 'ts-dx2.csv');
    await writeCsvTable(again, back);
    const header2 = readFileSync(again, 'utf8').split('\n')[0];
    expect(header2).toBe(header);
    expect(col(await readCsvTable(again), 'dx')).toEqual([2.5, 3, 4, 5]);
  });
});

describe('readCsvTable: plain tables', () => {
  it('reads tab-separated x, y, t (0-based) with CRLF and writes back the same text', async () => {
    const t = await readCsvTable(join(fixturesDir, 'csv', 'plain.tsv'));
    expect([...t.columns.keys()]).toEqual(['x', 'y', 't', 'photons']);
    expect(col(t, 't')).toEqual([0, 3, 7]);
    expect(col(t, 'x')).toEqual([10.5, 11, -4.75]);
    expect(t.metadata[CSV_META.style]).toBe('plain');
    const out = join(tmp, 'plain-out.tsv');
    await writeCsvTable(out, t);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(fixturesDir, 'csv', 'plain.tsv'), 'utf8').replace(/\r\n/g, '\n'));
  });

  it('plain style: frame without any [unit] header is a 0-based index; with [unit] headers it is 1-based', async () => {
    const plain = await readCsvTable(csvFile('frame,x,y\n0,1,2\n5,3,4\n'));
    expect(col(plain, 't')).toEqual([0, 5]);
    const ts = await readCsvTable(csvFile('frame,x [nm],y [nm]\n1,1,2\n6,3,4\n'));
    expect(col(ts, 't')).toEqual([0, 5]);
    // With both, t is the time and frame is carried as an ordinary column.
    const both = await readCsvTable(csvFile('t,frame,x,y\n2,3,1,1\n'));
    expect(col(both, 't')).toEqual([2]);
    expect(col(both, 'frame')).toEqual([3]);
  });

  it('sniffs semicolons and accepts decimal commas there', async () => {
    const t = await readCsvTable(csvFile('x;y;t;A\n1,5;2,25;0;3\n-0,5;1e3;1;4,75\n'));
    expect(col(t, 'x')).toEqual([1.5, -0.5]);
    expect(col(t, 'y')).toEqual([2.25, 1000]);
    expect(col(t, 'A')).toEqual([3, 4.75]);
    const out = join(tmp, 'semi.csv');
    await writeCsvTable(out, t);
    expect(readFileSync(out, 'utf8')).toBe('x;y;t;A\n1.5;2.25;0;3\n-0.5;1000;1;4.75\n');
  });

  it('accepts blank lines, a BOM, quoted cells, spaces, exponents, a trailing delimiter', async () => {
    const t = await readCsvTable(csvFile('\uFEFF\n"x", "y" ,t,\n 1.5e2 ,"2",3,\n\n-4E-1,5,6,\n'));
    expect([...t.columns.keys()]).toEqual(['x', 'y', 't']);
    expect(col(t, 'x')).toEqual([150, -0.4]);
    expect(col(t, 'y')).toEqual([2, 5]);
  });

  it('allows NaN, inf and empty cells outside the coordinates', async () => {
    const t = await readCsvTable(csvFile('x,y,t,bg,A\n1,2,3,,NaN\n4,5,6,inf,-Infinity\n'));
    expect(col(t, 'bg')).toEqual([NaN, Infinity]);
    expect(col(t, 'A')).toEqual([NaN, -Infinity]);
  });
});

describe('readCsvTable: units', () => {
  it('converts um / µm / μm ×1000 and px × pixelSizeNm', async () => {
    const um = await readCsvTable(csvFile('x [um],y [µm],z [μm],frame\n1.5,0.25,-0.001,1\n'));
    expect([col(um, 'x'), col(um, 'y'), col(um, 'z')]).toEqual([[1500], [250], [-1]]);
    const px = await readCsvTable(csvFile('x [px],y [pixel],frame\n2.5,10,3\n'), { pixelSizeNm: 108 });
    expect([col(px, 'x'), col(px, 'y'), col(px, 't')]).toEqual([[270], [1080], [2]]);
  });

  it('writes converted coordinates back in nm and relabels them', async () => {
    const t = await readCsvTable(csvFile('"x [um]","y [um]","frame"\n1.5,2,1\n'));
    const out = join(tmp, 'um-out.csv');
    await writeCsvTable(out, t);
    expect(readFileSync(out, 'utf8')).toBe('"x [nm]","y [nm]","frame"\n1500,2000,1\n');
  });

  it('px without a pixel size: an InputError naming the column and the pixelSizeNm option', async () => {
    const path = csvFile('x [px],y [px],frame\n1,2,3\n');
    await expect(readCsvTable(path)).rejects.toThrow(
      `${path}: column 'x [px]' is in camera pixels, and no pixel size is known; give it with \`pixelSizeNm\` (nm)`,
    );
    await expect(readCsvTable(path, { pixelSizeNm: -1 })).rejects.toThrow(UsageError);
  });

  it('unknown coordinate unit is refused', async () => {
    const path = csvFile('x [mm],y [nm],frame\n1,2,3\n');
    await expect(readCsvTable(path)).rejects.toThrow(`column 'x [mm]' has unit 'mm'; coordinates must be in nm, um (µm) or px`);
  });
});

describe('readCsvTable: errors name the file, line, column and text', () => {
  it('no x / y / t column lists the columns found', async () => {
    const path = csvFile('"id","frame","y [nm]"\n1,1,1\n');
    await expect(readCsvTable(path)).rejects.toThrow(`${path}: no x column (columns found: 'id', 'frame', 'y [nm]'); expected a header 'x', 'x [nm]'`);
    const noT = csvFile('x,y,A\n1,2,3\n');
    await expect(readCsvTable(noT)).rejects.toThrow(`${noT}: no t column (columns found: 'x', 'y', 'A')`);
  });

  it('a non-numeric cell', async () => {
    const path = csvFile('x,y,t,label\n1,2,3,4\n1,2,3,abc\n');
    await expect(readCsvTable(path)).rejects.toThrow(`${path}, line 3, column 'label': 'abc' is not a number`);
  });

  it('NaN or empty coordinates name the row', async () => {
    const nan = csvFile('x,y,t\n1,2,3\n4,NaN,5\n');
    await expect(readCsvTable(nan)).rejects.toThrow(`${nan}, line 3 (localization 2): y is 'NaN'; every localization needs finite x, y, t`);
    const empty = csvFile('x,y,t\n1,2,3\n\n4,5,\n');
    await expect(readCsvTable(empty)).rejects.toThrow(`${empty}, line 4 (localization 2): t is empty`);
    const inf = csvFile('x,y,t\n1e999,2,3\n');
    await expect(readCsvTable(inf)).rejects.toThrow(`${inf}, line 2 (localization 1): x is '1e999'`);
  });

  it('ragged rows (too few and too many fields)', async () => {
    const few = csvFile('x,y,t\n1,2,3\n1,2\n');
    await expect(readCsvTable(few)).rejects.toThrow(`${few}, line 3: 2 fields, the header has 3 (x, y, t)`);
    const many = csvFile('x,y,t\n1,2,3,4\n');
    await expect(readCsvTable(many)).rejects.toThrow(`${many}, line 2: 4 fields, the header has 3 (x, y, t)`);
  });

  it('empty file and duplicate columns', async () => {
    const empty = csvFile('\n\n');
    await expect(readCsvTable(empty)).rejects.toThrow(`${empty}: the file is empty; expected a header row`);
    const dup = csvFile('x,y,t,A,A\n1,2,3,4,5\n');
    await expect(readCsvTable(dup)).rejects.toThrow(InputError);
  });

  it('a missing file', async () => {
    await expect(readCsvTable(join(tmp, 'absent.csv'))).rejects.toThrow(`${join(tmp, 'absent.csv')}: no such file`);
  });

  it('a header-only file is an empty table', async () => {
    const t = await readCsvTable(csvFile('x,y,t\n'));
    expect(t.length).toBe(0);
    expect(col(t, 'x')).toEqual([]);
  });
});

describe('streaming', () => {
  it('gives the same table for any chunk size (lines and UTF-8 characters split across chunks)', async () => {
    const rows = ['"x [µm]","y [µm]","frame","note"'];
    for (let i = 0; i < 600; i++) rows.push(`${(i * 0.37) % 41},${-i / 7},${1 + (i % 97)},${i % 3 ? '' : 'NaN'}`);
    const path = csvFile(rows.join('\r\n') + '\r\n');
    const reference = await readCsvTable(path);
    expect(reference.length).toBe(600);
    for (const chunkBytes of [1, 7, 64, 1000]) {
      const t = await readCsvTable(path, { chunkBytes });
      for (const [name, data] of reference.columns) expect(col(t, name), `${name} @ ${chunkBytes}`).toEqual(Array.from(data));
    }
    // Values exactly as Number() parses the text (the fast path must agree with it).
    expect(col(reference, 'y')[5]).toBe(Number(`${-5 / 7}`) * 1000);
  });

  it('parses like Number() for random decimal text (fast-path property, fixed seed)', async () => {
    const texts = fc.sample(
      fc.oneof(
        fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
        fc.tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 99999999 }), fc.nat(8)).map(([a, b, z]) => `${a}.${'0'.repeat(z)}${b}`),
        fc.bigInt({ min: -(10n ** 18n), max: 10n ** 18n }).map(String),
      ),
      { numRuns: 4000, seed: 20240611 },
    );
    const path = csvFile('x,y,t\n' + texts.map((s) => `${s},0,0`).join('\n') + '\n');
    const t = await readCsvTable(path);
    const x = col(t, 'x');
    texts.forEach((s, i) => {
      if (!Object.is(x[i], Number(s))) throw new Error(`'${s}' parsed as ${x[i]}, Number() gives ${Number(s)}`);
    });
  });

  it('reads and writes 2·10^5 rows × 10 columns through the streaming path', async () => {
    const n = 200_000;
    const lines = [thunderstormHeader];
    for (let i = 0; i < n; i++) {
      lines.push(`${i + 1}.0,${(i % 5000) + 1}.0,${(i * 7.123456) % 40000},${(i * 3.3) % 40000},${(i % 600) - 300.5},120.5,1500.25,30.0,9.5,8.125`);
    }
    const path = csvFile(lines.join('\n') + '\n');
    const t0 = performance.now();
    const t = await readCsvTable(path);
    const readMs = performance.now() - t0;
    expect(t.length).toBe(n);
    const out = join(tmp, 'big-out.csv');
    const t1 = performance.now();
    await writeCsvTable(out, t);
    const writeMs = performance.now() - t1;
    // Speed is reported, not asserted: `npm run bench` measures it.
    console.info(`csv: 2e5 rows x 10 columns read in ${readMs.toFixed(0)} ms, written in ${writeMs.toFixed(0)} ms`);
    const back = await readCsvTable(out);
    expect(col(back, 'x').slice(-3)).toEqual(col(t, 'x').slice(-3));
  }, 60_000);
});

describe('writeCsvTable', () => {
  const table = (): LocTable => ({
    length: 3,
    columns: new Map<string, Float64Array | Float32Array | Uint32Array>([
      ['x', new Float64Array([0.1, 1 / 3, -2e-9])],
      ['y', new Float64Array([1e21, 123456789.125, -0])],
      ['z', new Float64Array([0, 0, 0])],
      ['t', new Float64Array([0, 17, 2500])],
      ['photons', new Float32Array([0.1, 1234.5677, 3.4e38])],
      ['frameIndex', new Uint32Array([4294967295, 0, 7])],
    ]),
    metadata: { 'voxelsize.x': 0.1 },
  });

  it('tables from other formats: plain headers, shortest round-trip float64, shortest float32, integers', async () => {
    const out = join(tmp, 'w.csv');
    await writeCsvTable(out, table());
    expect(readFileSync(out, 'utf8')).toBe(
      'x,y,z,t,photons,frameIndex\n' + '0.1,1e+21,0,0,0.1,4294967295\n' + '0.3333333333333333,123456789.125,0,17,1234.5677,0\n' + '-2e-9,0,0,2500,3.4e+38,7\n',
    );
  });

  it('uses tabs for .tsv targets', async () => {
    const out = join(tmp, 'w.tsv');
    await writeCsvTable(out, table());
    expect(readFileSync(out, 'utf8').split('\n')[0]).toBe('x\ty\tz\tt\tphotons\tframeIndex');
  });

  it.skipIf(!python)('Python reads the written numbers back to the same float64 bits', async () => {
    const n = 500;
    const values = fc.sample(fc.double({ noNaN: true, noDefaultInfinity: true }), { numRuns: n, seed: 7 });
    const t: LocTable = {
      length: n,
      columns: new Map([
        ['x', Float64Array.from(values)],
        ['y', Float64Array.from(values, (v) => v / 3)],
        ['t', Float64Array.from({ length: n }, (_, i) => i)],
      ]),
      metadata: {},
    };
    const out = join(tmp, 'py.csv');
    await writeCsvTable(out, t);
    const reply = runPython(
      python!,
      'import sys, json, numpy as np\n' +
        'a = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)\n' +
        'print(json.dumps(a.T.tolist()))',
      [out],
    );
    const [x, y, tt] = JSON.parse(reply) as number[][];
    expect(x.every((v, i) => Object.is(v, t.columns.get('x')![i]) || (v === 0 && t.columns.get('x')![i] === 0))).toBe(true);
    expect(y.every((v, i) => v === t.columns.get('y')![i])).toBe(true);
    expect(tt).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});

describe('csvFormat', () => {
  it('registers .csv and .tsv and reads/writes through temporary paths', async () => {
    expect(csvFormat.extensions).toEqual(['.csv', '.tsv']);
    const t = await csvFormat.read!(thunderstormPath, {});
    const temp = join(tmp, '.target.tsv.tmp');
    await csvFormat.write!([temp], t, {}, join(tmp, 'target.tsv'));
    expect(readFileSync(temp, 'utf8').split('\n')[0].split('\t')[1]).toBe('"frame"');
  });
});
