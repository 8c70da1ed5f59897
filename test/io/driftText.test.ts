import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import type { DriftTrace } from '../../src/core/types.js';
import { formatPercentE18, writePerFrameDriftCsv, writePicassoDriftTxt } from '../../src/io/driftText.js';
import { findPython, runPython } from '../helpers/fixtures.js';

const tmp = mkdtempSync(join(tmpdir(), 'ccdrift-drifttext-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const python = findPython('numpy');
const noPython = 'skipped: no Python with numpy found (findPython("numpy"))';
if (!python) console.warn(noPython);
/** Picasso-applied vs ccdrift-applied positions (pixels, or nm for z): float64 rounding only. */
const APPLY_TOL_PX = 1e-9;

/** A per-frame trace with awkward values (thirds, tiny and large numbers, a negative zero). */
function perFrameTrace(n: number): DriftTrace {
  return {
    t: Float64Array.from({ length: n }, (_, i) => i),
    x: Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : (i * 100) / 3 - 17.25)),
    y: Float64Array.from({ length: n }, (_, i) => (i === 0 ? -0 : Math.sin(i) * 1e-3 - i * 250.5)),
    z: Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : Math.cos(i) * 42.123456789)),
  };
}

describe('formatPercentE18 (numpy savetxt default, %.18e)', () => {
  it('matches C printf on hand-checked values', () => {
    expect(formatPercentE18(0)).toBe('0.000000000000000000e+00');
    expect(formatPercentE18(-0)).toBe('0.000000000000000000e+00');
    expect(formatPercentE18(-1)).toBe('-1.000000000000000000e+00');
    expect(formatPercentE18(0.5)).toBe('5.000000000000000000e-01');
    expect(formatPercentE18(1e100)).toBe('1.000000000000000016e+100');
    expect(formatPercentE18(0.1)).toBe('1.000000000000000056e-01');
    expect(() => formatPercentE18(NaN)).toThrow(RangeError);
  });
});

describe('writePicassoDriftTxt', () => {
  it('writes the negated correction in pixels (x, y) and nm (z), %.18e, space separated, CRLF', async () => {
    const trace: DriftTrace = {
      t: new Float64Array([0, 1, 2]),
      x: new Float64Array([0, 108, -54]),
      y: new Float64Array([0, -216, 27]),
      z: new Float64Array([0, 12.5, -3]),
    };
    const p2 = await writePicassoDriftTxt(join(tmp, 'd2_drift.txt'), trace, { pixelSizeNm: 108, dims: 2 });
    expect(readFileSync(p2, 'utf8')).toBe(
      '0.000000000000000000e+00 0.000000000000000000e+00\r\n' +
        '-1.000000000000000000e+00 2.000000000000000000e+00\r\n' +
        '5.000000000000000000e-01 -2.500000000000000000e-01\r\n',
    );
    const p3 = await writePicassoDriftTxt(join(tmp, 'd3_drift.txt'), trace, { pixelSizeNm: 108, dims: 3 });
    expect(readFileSync(p3, 'utf8').split('\r\n')[1]).toBe('-1.000000000000000000e+00 2.000000000000000000e+00 -1.250000000000000000e+01');
  });

  it('refuses traces that are not one sample per frame from 0, and bad options', async () => {
    const t: DriftTrace = { t: new Float64Array([531, 1531]), x: new Float64Array(2), y: new Float64Array(2), z: new Float64Array(2) };
    await expect(writePicassoDriftTxt(join(tmp, 'bad.txt'), t, { pixelSizeNm: 100, dims: 2 })).rejects.toThrow(
      /one row per frame, 0, 1, …, n − 1 .* sample 0 is at t = 531: evaluate the drift interpolator at every frame first/,
    );
    const ok = perFrameTrace(3);
    await expect(writePicassoDriftTxt(join(tmp, 'bad.txt'), ok, { pixelSizeNm: 0, dims: 2 })).rejects.toThrow(UsageError);
    await expect(writePicassoDriftTxt(join(tmp, 'bad.txt'), ok, { pixelSizeNm: 100, dims: 4 as 3 })).rejects.toThrow(UsageError);
  });

  it.skipIf(!python)('is byte-identical to numpy.savetxt(f, -drift_px, newline="\\r\\n") (picasso.io.save_drift)', async () => {
    const n = 40;
    const trace = perFrameTrace(n);
    const pixelSizeNm = 117.3;
    for (const dims of [2, 3] as const) {
      const path = await writePicassoDriftTxt(join(tmp, `cmp${dims}_drift.txt`), trace, { pixelSizeNm, dims });
      const reference = runPython(
        python!,
        'import sys, io, json, numpy as np\n' +
          'd = json.loads(sys.argv[1]); px = float(sys.argv[2]); dims = int(sys.argv[3])\n' +
          'cols = [-np.array(d["x"]) / px, -np.array(d["y"]) / px] + ([-np.array(d["z"])] if dims == 3 else [])\n' +
          'a = np.column_stack(cols) + 0.0\n' + // + 0.0: -0.0 -> 0.0, as ccdrift writes it
          'f = io.BytesIO(); np.savetxt(f, a, newline="\\r\\n"); sys.stdout.write(f.getvalue().decode())',
        [JSON.stringify({ x: Array.from(trace.x), y: Array.from(trace.y), z: Array.from(trace.z) }), String(pixelSizeNm), String(dims)],
      );
      expect(readFileSync(path, 'utf8')).toBe(reference);
    }
  });

  it.skipIf(!python)("applied Picasso's way (locs.x -= drift[frame]) it adds ccdrift's correction", async () => {
    const n = 25;
    const trace = perFrameTrace(n);
    const pixelSizeNm = 130;
    const path = await writePicassoDriftTxt(join(tmp, 'apply_drift.txt'), trace, { pixelSizeNm, dims: 3 });
    const reply = runPython(
      python!,
      'import sys, json, numpy as np\n' +
        // as picasso.io.load_drift and picasso.postprocess._apply_drift
        'drift = np.loadtxt(sys.argv[1], delimiter=" ")\n' +
        'assert drift.ndim == 2 and drift.shape[1] in [2, 3], drift.shape\n' +
        'frame = np.array([0, 3, 7, 24]); x = np.array([10.0, 20.0, 30.0, 40.0]); y = x + 1; z = x * 5\n' +
        'x -= drift[:, 0][frame]; y -= drift[:, 1][frame]; z -= drift[:, 2][frame]\n' +
        'print(json.dumps({"shape": list(drift.shape), "x": x.tolist(), "y": y.tolist(), "z": z.tolist()}))',
      [path],
    );
    const got = JSON.parse(reply) as { shape: number[]; x: number[]; y: number[]; z: number[] };
    expect(got.shape).toEqual([n, 3]);
    const frames = [0, 3, 7, 24];
    frames.forEach((f, k) => {
      const x0 = 10 * (k + 1);
      expect(Math.abs(got.x[k] - (x0 + trace.x[f] / pixelSizeNm))).toBeLessThan(APPLY_TOL_PX);
      expect(Math.abs(got.y[k] - (x0 + 1 + trace.y[f] / pixelSizeNm))).toBeLessThan(APPLY_TOL_PX);
      expect(Math.abs(got.z[k] - (x0 * 5 + trace.z[f]))).toBeLessThan(APPLY_TOL_PX);
    });
  });
});

describe('writePerFrameDriftCsv', () => {
  it('writes t,x,y,z in frames and nm (shortest round-trip numbers)', async () => {
    const trace: DriftTrace = {
      t: new Float64Array([0, 1, 2]),
      x: new Float64Array([0, 0.1, -1 / 3]),
      y: new Float64Array([0, 2, 1e-9]),
      z: new Float64Array([0, 0, 0]),
    };
    const path = await writePerFrameDriftCsv(join(tmp, 'perframe.csv'), trace);
    expect(readFileSync(path, 'utf8')).toBe('t,x,y,z\n0,0,0,0\n1,0.1,2,0\n2,-0.3333333333333333,1e-9,0\n');
    await expect(writePerFrameDriftCsv(path, trace, { inputs: [path] })).rejects.toThrow(/refusing to overwrite/);
  });

  it.skipIf(!python)('numpy.loadtxt reads the same float64 values', async () => {
    const trace = perFrameTrace(30);
    const path = await writePerFrameDriftCsv(join(tmp, 'perframe-np.csv'), trace);
    const reply = runPython(
      python!,
      'import sys, json, numpy as np\n' + 'a = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)\n' + 'print(json.dumps(a.T.tolist()))',
      [path],
    );
    const [t, x, y, z] = JSON.parse(reply) as number[][];
    expect(t).toEqual(Array.from(trace.t));
    expect(x).toEqual(Array.from(trace.x));
    expect(y.map((v) => v + 0)).toEqual(Array.from(trace.y, (v) => v + 0));
    expect(z).toEqual(Array.from(trace.z));
  });
});
