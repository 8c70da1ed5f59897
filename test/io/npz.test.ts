import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/core/errors.js';
import type { DriftTrace } from '../../src/core/types.js';
import { buildNpy, buildNpz, parseNpy, parseNpz } from '../../src/io/npy.js';
import { decodeDriftNpz, encodeDriftNpz, readDriftNpz, writeDriftNpz } from '../../src/io/npz.js';
import { findPython, fixturesDir, haveSharedFixtures, runPython, sharedFixture, sharedSkipReason } from '../helpers/fixtures.js';

const npzDir = join(fixturesDir, 'npz');
const fixture = (name: string) => join(npzDir, name);
const json = (name: string) => JSON.parse(readFileSync(fixture(name), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-npz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const python = findPython('numpy');
const noPython = 'skipped: no Python with numpy found (findPython("numpy"))';
if (!python) console.warn(noPython);

function expectExactly(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string) {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      throw new Error(`${label}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Replace header text in .npy bytes (latin-1, same length) to make a malformed file. */
function patchHeader(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const text = Array.from(bytes, (b) => String.fromCharCode(b)).join('');
  if (from.length !== to.length || !text.includes(from)) throw new Error(`patchHeader: cannot replace ${from}`);
  return Uint8Array.from(text.replace(from, to), (c) => c.charCodeAt(0));
}

function traceColumns(expectedDrift: number[], n: number) {
  const col = (c: number) => Array.from({ length: n }, (_, i) => expectedDrift[3 * i + c]);
  return { x: col(0), y: col(1), z: col(2) };
}

describe('parseNpy / parseNpz: dtypes and layouts written by numpy', () => {
  const expected = json('dtypes.expected.json') as Record<string, { shape: number[]; values: (number | boolean)[] }>;
  const arrays = parseNpz(readFileSync(fixture('dtypes.npz')), 'dtypes.npz');

  it('holds every member numpy wrote', () => {
    expect([...arrays.keys()].sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [key, { shape, values }] of Object.entries(expected)) {
    it(`${key}: shape and values exact (C order)`, () => {
      const a = arrays.get(key)!;
      expect(a.shape).toEqual(shape);
      expectExactly(a.data, values.map(Number), key);
    });
  }

  it('transposes fortran_order arrays into C order', () => {
    // numpy: np.arange(24).reshape(2, 3, 4) * 0.5, stored Fortran order, must read as C order.
    const a = arrays.get('fortran_3d')!;
    expectExactly(
      a.data,
      Array.from({ length: 24 }, (_, i) => i * 0.5),
      'fortran_3d',
    );
  });

  it('reads header versions 2.0 and 3.0', () => {
    for (const v of ['v2.npy', 'v3.npy']) {
      const bytes = readFileSync(fixture(v));
      expect(bytes[6]).toBe(Number(v[1]));
      const a = parseNpy(bytes, v);
      expect(a.shape).toEqual([2, 2]);
      expectExactly(a.data, [1, 2, 3, 4], v);
    }
  });

  it('reads Python 2 headers with long shapes, (30L, 3L)', () => {
    const arrays2 = parseNpz(readFileSync(fixture('py2_drift.npz')), 'py2_drift.npz');
    expect(arrays2.get('drift')!.shape).toEqual([7, 3]);
    expect(arrays2.get('tIndex')!.shape).toEqual([7]);
  });
});

describe('parseNpy: clear refusals', () => {
  it('refuses object arrays and says why', () => {
    expect(() => parseNpy(readFileSync(fixture('object.npy')), 'object.npy')).toThrow(
      /object\.npy: the array holds Python objects \(dtype '\|O'\).*does not\s+unpickle/,
    );
  });

  it('reports truncated data with the byte counts', () => {
    expect(() => parseNpy(readFileSync(fixture('truncated.npy')), 'truncated.npy')).toThrow(
      /truncated\.npy: truncated \.npy data: shape \(10\) of '<f8' needs 80 bytes, the file holds 68/,
    );
  });

  it('refuses unsupported dtypes, listing the supported ones', () => {
    const bytes = patchHeader(buildNpy({ data: new Float64Array([1, 2]), shape: [2] }), "'<f8'", "'<c8'");
    expect(() => parseNpy(bytes, 'complex.npy')).toThrow(/complex\.npy: unsupported \.npy dtype '<c8'; supported: float64/);
  });

  it('refuses files that are not .npy / .npz', () => {
    expect(() => parseNpy(new TextEncoder().encode('hello world'), 'x.npy')).toThrow(InputError);
    expect(() => parseNpz(new TextEncoder().encode('hello world'), 'x.npz')).toThrow(/x\.npz: not an \.npz archive/);
  });

  it('reports a truncated zip archive', () => {
    const bytes = readFileSync(fixture('numpy_drift.npz'));
    expect(() => parseNpz(bytes.subarray(0, bytes.length - 40), 'cut.npz')).toThrow(/cut\.npz: cannot read the zip archive/);
  });
});

describe('buildNpy / buildNpz', () => {
  it('round-trips every typed array kind through the codec', () => {
    const inputs = {
      a: { data: new Float64Array([1.5, -0, Number.MIN_VALUE, 1e308]), shape: [2, 2] },
      b: { data: new Float32Array([0.1, 2]), shape: [2] },
      c: { data: new Int32Array([-5, 7, 9]), shape: [3, 1] },
      d: { data: new Uint16Array([65535]), shape: [1] },
      e: { data: new Int8Array([-128]), shape: [1] },
      f: { data: new Uint8Array([]), shape: [0] },
    };
    const back = parseNpz(buildNpz(inputs), 'mem.npz');
    for (const [key, input] of Object.entries(inputs)) {
      const a = back.get(key)!;
      expect(a.shape).toEqual(input.shape);
      expect(a.data.constructor).toBe(input.data.constructor);
      expectExactly(a.data, input.data, key);
    }
  });

  it('aligns the data on 64 bytes, as numpy does', () => {
    const bytes = buildNpy({ data: new Float64Array(3), shape: [3] });
    const headerLength = bytes[8] | (bytes[9] << 8);
    expect((10 + headerLength) % 64).toBe(0);
    expect(bytes[10 + headerLength - 1]).toBe(0x0a);
  });
});

describe('drift .npz files', () => {
  const expected = json('py2_drift.expected.json') as { tIndex: number[]; drift: number[] };
  const n = expected.tIndex.length;
  const cols = traceColumns(expected.drift, n);

  it('reads a Python-2 numpy drift.npz (committed fixture, deflated, long shapes)', async () => {
    const trace = await readDriftNpz(fixture('py2_drift.npz'));
    expectExactly(trace.t, expected.tIndex, 't');
    expectExactly(trace.x, cols.x, 'x');
    expectExactly(trace.y, cols.y, 'y');
    expectExactly(trace.z, cols.z, 'z');
  });

  it("reads today's numpy.savez_compressed output (zip64 extra fields) identically", async () => {
    const trace = await readDriftNpz(fixture('numpy_drift.npz'));
    expectExactly(trace.t, expected.tIndex, 't');
    expectExactly(trace.x, cols.x, 'x');
    expectExactly(trace.y, cols.y, 'y');
  });

  it('accepts (n, 2) drift with z = 0 and an int64 tIndex', async () => {
    const trace = await readDriftNpz(fixture('drift_2col_int_t.npz'));
    expectExactly(trace.t, [0, 250, 500, 750], 't');
    expectExactly(trace.x, [0, 1.5, 3, 4.5], 'x');
    expectExactly(trace.y, [0, -2.25, -4.5, -6.75], 'y');
    expectExactly(trace.z, [0, 0, 0, 0], 'z');
  });

  describe.skipIf(!haveSharedFixtures)('shared fixture', () => {
    it("reads the original plugin's example drift.npz (written by Python 2 numpy)", async () => {
      const path = sharedFixture('seed-example', 'drift.npz');
      if (!existsSync(path)) {
        console.warn(`skipped: ${path} is absent`);
        return;
      }
      const trace = await readDriftNpz(path);
      expect(trace.t.length).toBe(30);
      // Values printed by numpy.load on this file: tIndex[:2] = [531, 1531], drift[1] = [-94.44363166, -27.24042402, 0].
      expect(trace.t[0]).toBe(531);
      expect(trace.t[1]).toBe(1531);
      expect([trace.x[0], trace.y[0], trace.z[0]]).toEqual([0, 0, 0]);
      expect(trace.x[1]).toBeCloseTo(-94.44363166, 8);
      expect(trace.y[1]).toBeCloseTo(-27.24042402, 8);
      expect(trace.z[1]).toBe(0);
      if (python) {
        const out = runPython(
          python,
          'import sys, json, numpy as np, warnings\nwarnings.simplefilter("ignore")\n' +
            'd = np.load(sys.argv[1], allow_pickle=False)\n' +
            'print(json.dumps({"t": d["tIndex"].tolist(), "d": d["drift"].ravel().tolist()}))',
          [path],
        );
        const ref = JSON.parse(out) as { t: number[]; d: number[] };
        const c = traceColumns(ref.d, ref.t.length);
        expectExactly(trace.t, ref.t, 't');
        expectExactly(trace.x, c.x, 'x');
        expectExactly(trace.y, c.y, 'y');
        expectExactly(trace.z, c.z, 'z');
      }
    });
  });
  if (!haveSharedFixtures) it.skip(sharedSkipReason, () => {});

  it('names the file and what is wrong: bad drift shape', () => {
    const bytes = buildNpz({
      tIndex: { data: new Float64Array(30), shape: [30] },
      drift: { data: new Float64Array(120), shape: [30, 4] },
    });
    expect(() => decodeDriftNpz(bytes, 'drift.npz')).toThrow("drift.npz: key 'drift' has shape (30, 4); expected (n, 3) with n = len(tIndex) = 30");
  });

  it('names the file and what is wrong: mismatched lengths, missing keys, non-finite values', () => {
    const mismatched = buildNpz({
      tIndex: { data: new Float64Array(5), shape: [5] },
      drift: { data: new Float64Array(12), shape: [4, 3] },
    });
    expect(() => decodeDriftNpz(mismatched, 'm.npz')).toThrow("m.npz: key 'drift' has shape (4, 3); expected (n, 3) with n = len(tIndex) = 5");
    const missing = buildNpz({ t: { data: new Float64Array(2), shape: [2] }, drift: { data: new Float64Array(6), shape: [2, 3] } });
    expect(() => decodeDriftNpz(missing, 'k.npz')).toThrow("k.npz: no key 'tIndex' (keys found: 't', 'drift')");
    const nan = buildNpz({
      tIndex: { data: new Float64Array([0, 1]), shape: [2] },
      drift: { data: new Float64Array([0, 0, 0, 1, NaN, 0]), shape: [2, 3] },
    });
    expect(() => decodeDriftNpz(nan, 'n.npz')).toThrow("n.npz: key 'drift' holds NaN at [1, 1]");
  });

  it('readDriftNpz: a missing file is an InputError naming it', async () => {
    await expect(readDriftNpz(join(tmp, 'nope.npz'))).rejects.toThrow(/nope\.npz: no such file/);
  });

  it('writeDriftNpz appends .npz, returns the path, writes atomically and refuses to overwrite inputs', async () => {
    const trace: DriftTrace = {
      t: new Float64Array([10, 20]),
      x: new Float64Array([0, 1]),
      y: new Float64Array([0, 2]),
      z: new Float64Array([0, 3]),
    };
    const written = await writeDriftNpz(join(tmp, 'stage1'), trace);
    expect(written).toBe(join(tmp, 'stage1.npz'));
    expect(readdirSync(tmp).filter((f) => f.includes('.tmp'))).toEqual([]);
    const back = await readDriftNpz(written);
    expectExactly(back.z, [0, 3], 'z');
    await expect(writeDriftNpz(written, trace, { inputs: [written] })).rejects.toThrow(/refusing to overwrite the input/);
  });

  it.skipIf(!python)('round-trip: ccdrift writes, numpy.load(allow_pickle=False) reads the same float64 bits', async () => {
    const n = 50;
    const trace: DriftTrace = {
      t: Float64Array.from({ length: n }, (_, i) => 1250 + 2500 * i),
      x: Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : Math.sin(i) * 123.456789 + 1 / 3)),
      y: Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : -Math.cos(i * 0.7) * 1e-3 + i * 1e5)),
      z: Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : Math.PI * i * -1e-12)),
    };
    const path = await writeDriftNpz(join(tmp, 'roundtrip.npz'), trace);
    const out = runPython(
      python!,
      'import sys, json, numpy as np\n' +
        'd = np.load(sys.argv[1], allow_pickle=False)\n' +
        'assert sorted(d.files) == ["drift", "tIndex"], d.files\n' +
        't, dr = d["tIndex"], d["drift"]\n' +
        'assert t.dtype == np.float64 and dr.dtype == np.float64 and dr.shape == (len(t), 3), (t.dtype, dr.dtype, dr.shape)\n' +
        'import zipfile\n' +
        'assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zipfile.ZipFile(sys.argv[1]).infolist())\n' +
        // repr() of a float64 is the shortest text that parses back to the same bits.
        'print(json.dumps({"t": t.tolist(), "d": dr.ravel().tolist()}))',
      [path],
    );
    const ref = JSON.parse(out) as { t: number[]; d: number[] };
    expectExactly(ref.t, trace.t, 't');
    const c = traceColumns(ref.d, n);
    expectExactly(c.x, trace.x, 'x');
    expectExactly(c.y, trace.y, 'y');
    expectExactly(c.z, trace.z, 'z');
  });

  it('encodeDriftNpz / decodeDriftNpz round-trip in memory (browser path)', () => {
    const trace: DriftTrace = {
      t: new Float64Array([0, 1.5]),
      x: new Float64Array([0, -0.1]),
      y: new Float64Array([0, 0.2]),
      z: new Float64Array([0, 1e-17]),
    };
    const back = decodeDriftNpz(encodeDriftNpz(trace), 'mem.npz');
    for (const k of ['t', 'x', 'y', 'z'] as const) expectExactly(back[k], trace[k], k);
  });
});

describe('parseNpy header parser', () => {
  it('reports an unparsable header', () => {
    const bytes = patchHeader(buildNpy({ data: new Float64Array([1]), shape: [1] }), "'shape': (1,)", "'shape': [1x]");
    expect(() => parseNpy(bytes, 'bad.npy')).toThrow(/bad\.npy: cannot parse the \.npy header/);
  });
});
