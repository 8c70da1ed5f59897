/**
 * Work an executor may run on a grid before its FFT, described as plain data so it can run
 * in a worker thread: the Image RCC front end hands raw frames plus this description to the
 * pool, instead of pre-filtering every frame on the main thread.
 */
import { clipAndFilterFrame, type ClipFilterParams } from '../image/clipFilter.js';
import type { GridShape } from '../fft/realFftNd.js';

export interface ClipFilterPreparation {
  kind: 'clipFilter';
  params: ClipFilterParams;
  /** Data size (width, height, depth) inside the padded grid. */
  shape: [number, number, number];
}

export type GridPreparation = ClipFilterPreparation;

/** Apply `prep` in place to the data region of `grid` (padded to `fftShape`, x fastest). */
export function prepareGrid(prep: GridPreparation, grid: Float32Array, fftShape: GridShape): void {
  const [w, h, d] = prep.shape;
  const { nx, ny } = fftShape;
  const data = new Float32Array(w * h * d);
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) data.set(grid.subarray((z * ny + y) * nx, (z * ny + y) * nx + w), (z * h + y) * w);
  }
  const filtered = clipAndFilterFrame(data, w, h, d, prep.params);
  for (let z = 0; z < d; z++) {
    for (let y = 0; y < h; y++) grid.set(filtered.subarray((z * h + y) * w, (z * h + y + 1) * w), (z * ny + y) * nx);
  }
}
