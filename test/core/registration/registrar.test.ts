import { describe, expect, it } from 'vitest';
import { loadPffft } from '../../../src/core/fft/pffft.js';
import { RealFftNd } from '../../../src/core/fft/realFftNd.js';
import { Registrar, createRegistrationPlan } from '../../../src/core/registration/registrar.js';
import { findPeak } from '../../../src/core/registration/findPeak.js';

/** Sub-pixel registration tolerance on noise-free, band-limited images (pixels). */
const SUBPIXEL_TOL_PX = 0.02;

/** Random Gaussian blobs (σ 1.5 px) in the data region of a padded grid. */
function blobs(shape: { nx: number; ny: number; nz: number }, data: [number, number, number], seed: number, count = 60): Float32Array {
  const g = new Float32Array(shape.nx * shape.ny * shape.nz);
  let s = seed;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const sigma = 1.5;
  for (let b = 0; b < count; b++) {
    const cx = data[0] * (0.25 + 0.5 * rnd());
    const cy = data[1] * (0.25 + 0.5 * rnd());
    const cz = data[2] > 1 ? data[2] * (0.3 + 0.4 * rnd()) : 0;
    const amp = 0.5 + rnd();
    for (let z = 0; z < data[2]; z++)
      for (let y = 0; y < data[1]; y++)
        for (let x = 0; x < data[0]; x++) {
          const r2 = (x - cx) ** 2 + (y - cy) ** 2 + (data[2] > 1 ? (z - cz) ** 2 : 0);
          g[(z * shape.ny + y) * shape.nx + x] += amp * Math.exp(-r2 / (2 * sigma * sigma));
        }
  }
  return g;
}

/** Shift a real grid by d pixels (content moves by +d) with a Fourier phase ramp. */
function fourierShift(fft: RealFftNd, grid: Float32Array, d: [number, number, number]): Float32Array {
  const spec = new Float32Array(fft.spectrumLength);
  fft.forward(grid, spec);
  const { nx, ny, nz, nxh } = fft;
  for (let kx = 0; kx < nxh; kx++)
    for (let kz = 0; kz < nz; kz++)
      for (let ky = 0; ky < ny; ky++) {
        const fy = (ky < ny / 2 ? ky : ky - ny) / ny;
        const fz = (kz < nz / 2 ? kz : kz - nz) / nz;
        const ph = -2 * Math.PI * ((kx / nx) * d[0] + fy * d[1] + fz * d[2]);
        const i = 2 * ((kx * nz + kz) * ny + ky);
        const re = spec[i];
        const im = spec[i + 1];
        spec[i] = re * Math.cos(ph) - im * Math.sin(ph);
        spec[i + 1] = re * Math.sin(ph) + im * Math.cos(ph);
      }
  const out = new Float32Array(fft.gridLength);
  fft.inverse(spec, out);
  const n = fft.gridLength;
  for (let i = 0; i < n; i++) out[i] /= n;
  return out;
}

describe('Registrar', () => {
  const cases: { data: [number, number, number]; shifts: [number, number, number][] }[] = [
    {
      data: [100, 80, 1],
      shifts: [
        [0, 0, 0],
        [1.3, -2.7, 0],
        [-5.45, 3.12, 0],
        [7.9, 0.5, 0],
        [-0.25, -0.75, 0],
      ],
    },
    {
      data: [64, 48, 24],
      shifts: [
        [0.4, -1.6, 0.8],
        [-2.2, 1.1, -1.35],
      ],
    },
  ];
  for (const { data, shifts } of cases) {
    it(`recovers known sub-pixel Fourier shifts in ${data[2] > 1 ? '3D' : '2D'} within ${SUBPIXEL_TOL_PX} px`, async () => {
      const plan = createRegistrationPlan({ nx: data[0], ny: data[1], nz: data[2] });
      const reg = new Registrar(plan, await loadPffft());
      const a = blobs(plan.fftShape, data, 17);
      const specA = new Float32Array(reg.fft.spectrumLength);
      reg.forward(a, specA);
      const origin = reg.peak(specA, specA)!;
      expect(Math.hypot(...origin)).toBeLessThan(1e-3);
      for (const d of shifts) {
        const b = fourierShift(reg.fft, a, d);
        const specB = new Float32Array(reg.fft.spectrumLength);
        reg.forward(b, specB);
        const p = reg.peak(specA, specB)!;
        for (let ax = 0; ax < 3; ax++) {
          expect(Math.abs(p[ax] - origin[ax] - d[ax]), `axis ${ax} of shift ${d}`).toBeLessThan(SUBPIXEL_TOL_PX);
        }
      }
      reg.dispose();
    });
  }

  it('returns no measurement for an empty window', async () => {
    const plan = createRegistrationPlan({ nx: 40, ny: 40, nz: 1 });
    const reg = new Registrar(plan, await loadPffft());
    const zero = new Float32Array(reg.fft.spectrumLength);
    expect(reg.peak(zero, zero)).toBeNull();
    reg.dispose();
  });

  it('searches only the central part of axes ≥ 16 bins', () => {
    const plan = createRegistrationPlan({ nx: 1000, ny: 16, nz: 10 });
    expect(plan.shiftLo[0]).toBe(-125);
    expect(plan.shiftHi[0]).toBe(126);
    expect([plan.shiftLo[1], plan.shiftHi[1]]).toEqual([-2, 3]);
    expect([plan.shiftLo[2], plan.shiftHi[2]]).toEqual([-7, 8]);
  });
});

describe('findPeak', () => {
  it('keeps the component that holds the maximum, not the first in raster order', () => {
    const nx = 20;
    const ny = 20;
    const img = new Float32Array(nx * ny);
    // An earlier (in raster order) blob above threshold, and the true, higher peak later.
    img[2 * nx + 2] = 0.9;
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) img[y * nx + x] += Math.exp(-((x - 13.3) ** 2 + (y - 14.6) ** 2) / 4);
    const peak = findPeak(img, nx, ny, 1)!;
    expect(peak.maxIndex).toEqual([13, 15, 0]);
    expect(peak.mask[2 * nx + 2]).toBe(0);
    expect(Math.abs(peak.position[0] - 13.3)).toBeLessThan(0.01);
    expect(Math.abs(peak.position[1] - 14.6)).toBeLessThan(0.01);
  });
});
