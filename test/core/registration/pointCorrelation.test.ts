import { describe, expect, it } from 'vitest';
import { loadPffft } from '../../../src/core/fft/pffft.js';
import { findPeak } from '../../../src/core/registration/findPeak.js';
import { KERNEL_RADIUS, PointCorrelator, PointRegistrar, smoothingKernel, type BinnedPoints } from '../../../src/core/registration/pointCorrelation.js';
import { Registrar, createRegistrationPlan } from '../../../src/core/registration/registrar.js';
import { expectClose } from '../../helpers/expectClose.js';
import { findPython, runPython } from '../../helpers/fixtures.js';

/**
 * The points route's correlation against the FFT route's on the same histograms: they differ
 * by the smoothing kernel's tail beyond KERNEL_RADIUS (< 0.5 % of the kernel's centre) and the
 * FFT's circular wrap, which the data below (away from the grid's edges) do not reach.
 */
const FFT_AGREEMENT_OF_MAX = 0.01;
/** Sub-pixel peaks of the two routes on the same data, pixels. */
const PEAK_AGREEMENT_PX = 0.05;
/** Against numpy (float64 there, float32 sums here). */
const NUMPY_RTOL = 1e-4;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/** Clustered points (blobs of σ ≈ 2 bins) in the middle half of the data shape, moved by `shift` bins. */
function clusteredPoints(data: [number, number, number], n: number, seed: number, shift: [number, number, number] = [0, 0, 0], noiseSeed = seed): BinnedPoints {
  const r = rng(seed);
  const centres = Array.from({ length: 12 }, () => data.map((d) => (d > 1 ? d * (0.3 + 0.4 * r()) : 0)));
  const rn = rng(noiseSeed * 7919);
  const gauss = () => Math.sqrt(-2 * Math.log(rn() + 1e-12)) * Math.cos(2 * Math.PI * rn());
  const p: BinnedPoints = { ix: new Int32Array(n), iy: new Int32Array(n), iz: new Int32Array(n), w: new Float32Array(n) };
  const r2 = rng(seed + 1);
  for (let k = 0; k < n; k++) {
    const c = centres[k % centres.length];
    const v = data.map((d, a) => (d > 1 ? Math.min(d - 1, Math.max(0, Math.floor(c[a] + 2 * gauss() + shift[a]))) : 0));
    p.ix[k] = v[0];
    p.iy[k] = v[1];
    p.iz[k] = v[2];
    p.w[k] = 0.5 + 0.5 * r2();
  }
  return p;
}

/** The points as a grid padded to the plan's FFT shape (x fastest). */
function toGrid(p: BinnedPoints, shape: { nx: number; ny: number; nz: number }): Float32Array {
  const g = new Float32Array(shape.nx * shape.ny * shape.nz);
  for (let k = 0; k < p.w.length; k++) g[(p.iz[k] * shape.ny + p.iy[k]) * shape.nx + p.ix[k]] += p.w[k];
  return g;
}

describe('smoothingKernel', () => {
  it('is the FFT route’s band-limited Gaussian: sums to ~1, symmetric tail below 0.5 % beyond the radius', () => {
    const g = smoothingKernel(0.5, 12);
    let sum = g[0];
    for (let k = 1; k < g.length; k++) sum += 2 * g[k];
    expect(Math.abs(sum - 1)).toBeLessThan(1e-3);
    for (let k = KERNEL_RADIUS + 1; k < g.length; k++) expect(Math.abs(g[k]) / g[0]).toBeLessThan(0.005);
  });
});

describe('PointCorrelator against the FFT route', () => {
  const cases: { data: [number, number, number]; n: number }[] = [
    { data: [64, 48, 1], n: 400 },
    { data: [40, 36, 24], n: 300 },
  ];
  for (const { data, n } of cases) {
    it(`same correlation over the search region (${data.join('×')}, ${n} points)`, async () => {
      const plan = createRegistrationPlan({ nx: data[0], ny: data[1], nz: data[2] });
      const reg = new Registrar(plan, await loadPffft());
      try {
        const a = clusteredPoints(data, n, 3);
        const b = clusteredPoints(data, n, 3, [2, -1, data[2] > 1 ? 1 : 0]);
        const specA = new Float32Array(reg.fft.spectrumLength);
        const specB = new Float32Array(reg.fft.spectrumLength);
        reg.forward(toGrid(a, plan.fftShape), specA);
        reg.forward(toGrid(b, plan.fftShape), specB);
        // The FFT route is unscaled: divide by the grid length.
        const fft = Float32Array.from(reg.correlationRegion(specA, specB), (v) => v / reg.fft.gridLength);
        const pts = new PointCorrelator(plan).correlationRegion(a, b);
        const max = Math.max(...fft);
        expectClose(pts, fft, { atol: FFT_AGREEMENT_OF_MAX * max, rtol: 0 }, 'correlation');
        const [rx, ry, rz] = reg.regionShape;
        const pf = findPeak(fft, rx, ry, rz)!;
        const pp = findPeak(pts, rx, ry, rz)!;
        for (let ax = 0; ax < 3; ax++) expect(Math.abs(pf.position[ax] - pp.position[ax])).toBeLessThan(PEAK_AGREEMENT_PX);
      } finally {
        reg.dispose();
      }
    });
  }
});

describe('PointRegistrar (coarse then fine)', () => {
  it('gives the sub-pixel peak of the full-resolution correlation over the whole region', () => {
    const data: [number, number, number] = [120, 110, 40];
    const plan = createRegistrationPlan({ nx: data[0], ny: data[1], nz: data[2] });
    const full = new PointCorrelator(plan);
    const reg = new PointRegistrar(plan);
    const [rx, ry, rz] = full.regionShape;
    for (const [seed, shift] of [
      [5, [7, -4, 2]],
      [9, [-11, 3, -3]],
      [13, [0, 0, 0]],
      [17, [12, 13, 4]],
    ] as const) {
      const a = clusteredPoints(data, 800, seed);
      const b = clusteredPoints(data, 800, seed, shift as unknown as [number, number, number], seed + 100);
      const ref = findPeak(full.correlationRegion(a, b), rx, ry, rz)!;
      const got = reg.measure(a, b)!;
      for (let ax = 0; ax < 3; ax++) expect(got.shift[ax]).toBeCloseTo(ref.position[ax] + plan.shiftLo[ax], 6);
      for (let ax = 0; ax < 3; ax++) expect(Math.abs(got.shift[ax] - shift[ax])).toBeLessThan(1);
    }
  });

  it('returns null for an empty window', () => {
    const plan = createRegistrationPlan({ nx: 64, ny: 64, nz: 20 });
    const empty: BinnedPoints = { ix: new Int32Array(0), iy: new Int32Array(0), iz: new Int32Array(0), w: new Float32Array(0) };
    expect(new PointRegistrar(plan).measure(empty, clusteredPoints([64, 64, 20], 100, 1))).toBeNull();
  });
});

const python = findPython('numpy', 'scipy');
describe.skipIf(!python)('PointCorrelator against numpy', () => {
  if (!python) console.warn('skipped: no python3 with numpy and scipy');
  it('equals scipy.signal.correlate of the weighted histograms smoothed by the kernel', () => {
    const data: [number, number, number] = [36, 30, 20];
    const plan = createRegistrationPlan({ nx: data[0], ny: data[1], nz: data[2] });
    const a = clusteredPoints(data, 200, 21);
    const b = clusteredPoints(data, 200, 22, [3, 1, -2]);
    const kernel = Array.from(smoothingKernel(plan.smoothingSigmaPx));
    const payload = JSON.stringify({
      data,
      lo: plan.shiftLo,
      hi: plan.shiftHi,
      kernel,
      a: [Array.from(a.ix), Array.from(a.iy), Array.from(a.iz), Array.from(a.w)],
      b: [Array.from(b.ix), Array.from(b.iy), Array.from(b.iz), Array.from(b.w)],
    });
    const code = `
import json, sys, numpy as np
from scipy import signal, ndimage
p = json.loads(sys.argv[1])
nx, ny, nz = p['data']
def grid(q):
    g = np.zeros((nz, ny, nx))
    np.add.at(g, (np.array(q[2]), np.array(q[1]), np.array(q[0])), np.array(q[3], dtype=np.float32).astype(float))
    return g
ga, gb = grid(p['a']), grid(p['b'])
# c[s] = sum_x a[x] b[x + s]: full linear correlation, lag s at index s + (n - 1).
c = signal.correlate(gb, ga, mode='full', method='fft')
k = np.array(p['kernel']); k = np.concatenate([k[:0:-1], k])
for axis in range(3):
    c = ndimage.convolve1d(c, k, axis=axis, mode='constant')
lo, hi = p['lo'], p['hi']
sl = tuple(slice(lo[a] + n - 1, hi[a] + n - 1) for a, n in ((2, nz), (1, ny), (0, nx)))
print(json.dumps(np.abs(c[sl]).ravel().tolist()))
`;
    const expected = JSON.parse(runPython(python!, code, [payload])) as number[];
    const got = new PointCorrelator(plan).correlationRegion(a, b);
    const max = Math.max(...expected);
    expectClose(got, expected, { rtol: NUMPY_RTOL, atol: NUMPY_RTOL * max }, 'correlation vs numpy');
  });
});
