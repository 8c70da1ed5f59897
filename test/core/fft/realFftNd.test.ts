import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fftSize, isSmooth235, loadPffft } from '../../../src/core/fft/pffft.js';
import { RealFftNd } from '../../../src/core/fft/realFftNd.js';
import { expectClose } from '../../helpers/expectClose.js';

/** Naive DFT of a real grid at one frequency (kx, ky, kz), in float64. */
function naiveDft(grid: Float32Array, nx: number, ny: number, nz: number, kx: number, ky: number, kz: number): [number, number] {
  let re = 0;
  let im = 0;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        const a = -2 * Math.PI * ((kx * x) / nx + (ky * y) / ny + (kz * z) / nz);
        const v = grid[(z * ny + y) * nx + x];
        re += v * Math.cos(a);
        im += v * Math.sin(a);
      }
  return [re, im];
}

function randomGrid(n: number, seed: number): Float32Array {
  const g = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    g[i] = s / 2 ** 32 - 0.5;
  }
  return g;
}

describe('fftSize', () => {
  it('returns 2·3·5-smooth multiples of 32 (real) or 16 (complex)', () => {
    expect(fftSize(1, 'real')).toBe(32);
    expect(fftSize(33, 'real')).toBe(64);
    expect(fftSize(1000, 'real')).toBe(1024);
    expect(fftSize(961, 'real')).toBe(1024);
    expect(fftSize(930, 'real')).toBe(960);
    expect(fftSize(17, 'complex')).toBe(32);
    expect(fftSize(40, 'complex')).toBe(48);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), (n) => {
        const r = fftSize(n, 'real');
        const c = fftSize(n, 'complex');
        return r >= n && r % 32 === 0 && isSmooth235(r) && c >= n && c % 16 === 0 && isSmooth235(c);
      }),
      { seed: 7 },
    );
  });
});

describe('RealFftNd', () => {
  for (const shape of [
    { nx: 32, ny: 1, nz: 1 },
    { nx: 64, ny: 48, nz: 1 },
    { nx: 96, ny: 16, nz: 32 },
  ]) {
    it(`matches a naive DFT on a ${shape.nx}×${shape.ny}×${shape.nz} grid`, async () => {
      const fft = new RealFftNd(await loadPffft(), shape);
      const grid = randomGrid(fft.gridLength, 3);
      const spec = new Float32Array(fft.spectrumLength);
      fft.forward(grid, spec);
      const { nx, ny, nz, nxh } = fft;
      const probes = [
        [0, 0, 0],
        [1, 0, 0],
        [nxh - 1, 0, 0],
        [3, ny - 1, 0],
        [nxh - 1, ny > 1 ? ny / 2 : 0, nz > 1 ? nz - 2 : 0],
        [5, ny > 2 ? 2 : 0, nz > 1 ? 7 : 0],
      ];
      for (const [kx, ky, kz] of probes) {
        const [re, im] = naiveDft(grid, nx, ny, nz, kx, ky, kz);
        const i = 2 * ((kx * nz + kz) * ny + ky);
        const scale = Math.sqrt(fft.gridLength);
        expectClose([spec[i], spec[i + 1]], [re, im], { atol: 2e-5 * scale }, `bin (${kx},${ky},${kz})`);
      }
      fft.dispose();
    });
  }

  it('round-trips (inverse ∘ forward = N · identity) and prunes to the requested rows', async () => {
    const shape = { nx: 64, ny: 32, nz: 16 };
    const fft = new RealFftNd(await loadPffft(), shape);
    const grid = randomGrid(fft.gridLength, 11);
    const spec = new Float32Array(fft.spectrumLength);
    fft.forward(grid, spec);
    const back = new Float32Array(fft.gridLength).fill(12345);
    fft.inverse(spec.slice(), back, { y0: 8, y1: 24, z0: 4, z1: 12 });
    const n = fft.gridLength;
    for (let z = 0; z < 16; z++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 64; x += 7) {
          const i = (z * 32 + y) * 64 + x;
          const inside = y >= 8 && y < 24 && z >= 4 && z < 12;
          if (inside) expect(Math.abs(back[i] / n - grid[i])).toBeLessThan(1e-5);
          else expect(back[i]).toBe(12345);
        }
    const full = new Float32Array(n);
    fft.inverse(spec, full);
    expectClose(
      Array.from(full, (v) => v / n),
      grid,
      { atol: 1e-5 },
      'full round trip',
    );
    fft.dispose();
  });
});
