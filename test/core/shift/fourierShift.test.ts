import { describe, expect, it } from 'vitest';
import { loadPffft } from '../../../src/core/fft/pffft.js';
import { Registrar, createRegistrationPlan } from '../../../src/core/registration/registrar.js';
import { createFourierShifter, shiftFrame } from '../../../src/core/shift/fourierShift.js';
import { expectClose } from '../../helpers/expectClose.js';
import { findPython, runPython } from '../../helpers/fixtures.js';

/** Integer shifts of zero-padded frames are exact translations up to float32 FFT round-off. */
const INTEGER_SHIFT_ATOL = 2e-5;
/** Agreement with scipy.ndimage.fourier_shift (float64) on the same padded grid, relative to the maximum. */
const SCIPY_ATOL = 2e-5;
/** Sub-pixel shift recovered by the registration core (issue 4 acceptance bound). */
const RECOVERY_TOL_PX = 0.02;
/** Shift by s then by −s gives the original back (band-limited content far from the edges). */
const ROUND_TRIP_ATOL = 1e-3;

/** Gaussian blobs (σ px) in a w×h×d frame, away from the edges; max ≈ 1. */
function blobs(w: number, h: number, d: number, seed: number, count = 40, sigma = 1.5): Float32Array {
  const g = new Float32Array(w * h * d);
  let s = seed;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let b = 0; b < count; b++) {
    const cx = w * (0.25 + 0.5 * rnd());
    const cy = h * (0.25 + 0.5 * rnd());
    const cz = d > 1 ? d * (0.3 + 0.4 * rnd()) : 0;
    const amp = 0.5 + rnd();
    for (let z = 0; z < d; z++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const r2 = (x - cx) ** 2 + (y - cy) ** 2 + (d > 1 ? (z - cz) ** 2 : 0);
          g[(z * h + y) * w + x] += amp * Math.exp(-r2 / (2 * sigma * sigma));
        }
  }
  return g;
}

describe('Fourier shift', () => {
  it('moves content by whole pixels exactly, with zeros entering from the edge (2D and 3D)', async () => {
    for (const [w, h, d, shift] of [
      [40, 30, 1, [3, -2, 0]],
      [24, 20, 6, [-2, 1, 2]],
    ] as const) {
      const frame = Float32Array.from({ length: w * h * d }, (_, i) => ((i * 7919) % 101) / 101);
      const out = await shiftFrame(frame, w, h, d, shift, 1);
      const expected = new Float32Array(w * h * d);
      for (let z = 0; z < d; z++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const sx = x - shift[0];
            const sy = y - shift[1];
            const sz = z - shift[2];
            if (sx >= 0 && sx < w && sy >= 0 && sy < h && sz >= 0 && sz < d) expected[(z * h + y) * w + x] = frame[(sz * h + sy) * w + sx];
          }
      expectClose(out, expected, { rtol: 0, atol: INTEGER_SHIFT_ATOL }, `${w}×${h}×${d} shifted by ${shift}`);
    }
  });

  it('leaves the frame unchanged for a zero shift, with or without padding', async () => {
    const frame = blobs(33, 17, 1, 5);
    for (const padding of [0, 0.5, 1, 2]) {
      expectClose(await shiftFrame(frame, 33, 17, 1, [0, 0, 0], padding), frame, { rtol: 0, atol: INTEGER_SHIFT_ATOL }, `padding ${padding}`);
    }
  });

  const python = findPython('numpy', 'scipy');
  it.skipIf(!python)('matches scipy.ndimage.fourier_shift on the same zero-padded grid for sub-pixel shifts (2D and 3D)', async () => {
    for (const { shape, shift, padding } of [
      { shape: [50, 37, 1], shift: [2.37, -1.61, 0], padding: 1 },
      { shape: [20, 18, 9], shift: [-0.63, 1.28, 0.41], padding: 0.5 },
    ] as { shape: [number, number, number]; shift: [number, number, number]; padding: number }[]) {
      const [w, h, d] = shape;
      const frame = Float32Array.from({ length: w * h * d }, (_, i) => Math.sin(i * 0.37) + ((i * 31) % 17) / 17);
      const shifter = await createFourierShifter({ width: w, height: h, depth: d }, padding);
      const out = shifter.shift(frame, shift);
      const { nx, ny, nz } = shifter.fft;
      const [ox, oy, oz] = shifter.offset;
      shifter.dispose();
      const code = `
import sys, json, numpy as np
from scipy import ndimage
w, h, d, nx, ny, nz, ox, oy, oz = ${[w, h, d, nx, ny, nz, ox, oy, oz].join(', ')}
img = np.array(json.loads(sys.argv[1]), dtype=np.float32).reshape(d, h, w)
g = np.zeros((nz, ny, nx))
g[oz:oz+d, oy:oy+h, ox:ox+w] = img
F = ndimage.fourier_shift(np.fft.fftn(g), (${shift[2]}, ${shift[1]}, ${shift[0]}))
r = np.real(np.fft.ifftn(F))[oz:oz+d, oy:oy+h, ox:ox+w]
print(json.dumps(r.ravel().tolist()))
`;
      const ref = JSON.parse(runPython(python!, code, [JSON.stringify(Array.from(frame))])) as number[];
      const max = Math.max(...ref.map(Math.abs));
      expectClose(out, ref, { rtol: 0, atol: SCIPY_ATOL * max }, `shift of ${shape} vs scipy`);
    }
  });

  it(`is recovered by the registration core within ${RECOVERY_TOL_PX} px (2D and 3D)`, async () => {
    const pffft = await loadPffft();
    const cases: { shape: [number, number, number]; shifts: [number, number, number][] }[] = [
      {
        shape: [96, 80, 1],
        shifts: [
          [0.3, -0.7, 0],
          [2.45, 1.15, 0],
          [-4.8, 3.33, 0],
        ],
      },
      {
        shape: [48, 40, 24],
        shifts: [
          [0.6, -1.4, 0.75],
          [-1.25, 0.35, -1.6],
        ],
      },
    ];
    for (const { shape, shifts } of cases) {
      const [w, h, d] = shape;
      const a = blobs(w, h, d, 11);
      const plan = createRegistrationPlan({ nx: w, ny: h, nz: d });
      const reg = new Registrar(plan, pffft);
      const { nx, ny } = plan.fftShape;
      const spectrum = (frame: Float32Array) => {
        const grid = new Float32Array(reg.fft.gridLength);
        for (let z = 0; z < d; z++) for (let y = 0; y < h; y++) grid.set(frame.subarray((z * h + y) * w, (z * h + y + 1) * w), (z * ny + y) * nx);
        const s = new Float32Array(reg.fft.spectrumLength);
        reg.forward(grid, s);
        return s;
      };
      const shifter = await createFourierShifter({ width: w, height: h, depth: d }, 1);
      const specA = spectrum(a);
      const origin = reg.peak(specA, specA)!;
      for (const s of shifts) {
        const p = reg.peak(specA, spectrum(shifter.shift(a, s)))!;
        for (let ax = 0; ax < 3; ax++) {
          expect(Math.abs(p[ax] - origin[ax] - s[ax]), `axis ${ax} of shift ${s} in ${shape}`).toBeLessThanOrEqual(RECOVERY_TOL_PX);
        }
      }
      shifter.dispose();
      reg.dispose();
    }
  });

  it('undoes itself: shifting by s then by −s returns the frame', async () => {
    const [w, h, d] = [40, 36, 20];
    const a = blobs(w, h, d, 3, 20);
    const shifter = await createFourierShifter({ width: w, height: h, depth: d }, 1);
    const s: [number, number, number] = [1.7, -2.3, 0.6];
    const back = shifter.shift(shifter.shift(a, s), [-s[0], -s[1], -s[2]]);
    shifter.dispose();
    expectClose(back, a, { rtol: 0, atol: ROUND_TRIP_ATOL }, 'round trip');
  });

  it('rejects frames of the wrong size and non-finite shifts', async () => {
    const shifter = await createFourierShifter({ width: 8, height: 8, depth: 1 }, 1);
    expect(() => shifter.shift(new Float32Array(10), [0, 0, 0])).toThrow(/expected 8×8×1 = 64/);
    expect(() => shifter.shift(new Float32Array(64), [NaN, 0, 0])).toThrow(/finite/);
    shifter.dispose();
    await expect(createFourierShifter({ width: 8, height: 8, depth: 1 }, -1)).rejects.toThrow(/paddingMultiplier/);
  });
});
