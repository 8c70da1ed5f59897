/**
 * Worker thread of the pool executor (./workerExecutor.ts): computes window spectra into the
 * shared store and measures pair shifts from it. Messages are answered in order.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { loadPffft } from '../core/fft/pffft.js';
import { thresholdCorrelation } from '../core/registration/correlationExecutor.js';
import { Registrar, type RegistrationPlan } from '../core/registration/registrar.js';
import { prepareGrid, type GridPreparation } from '../core/registration/prepareGrid.js';
import { PointRegistrar, type BinnedPoints } from '../core/registration/pointCorrelation.js';

export type SpectrumStorage = { kind: 'memory'; buffers: SharedArrayBuffer[] } | { kind: 'disk'; path: string };

export type WorkerRequest =
  | { type: 'init'; plan: RegistrationPlan; storage: SpectrumStorage; origins: SharedArrayBuffer; prepare?: GridPreparation }
  | { type: 'spectrum'; index: number; grid: SharedArrayBuffer }
  | { type: 'pairs'; pairs: Int32Array; keepCorrelations: boolean }
  | { type: 'points-init'; plan: RegistrationPlan; points: BinnedPoints[] }
  | { type: 'points-pairs'; pairs: Int32Array }
  | { type: 'warm' }
  | { type: 'close' };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'spectrum'; index: number; origin: [number, number, number] | null }
  | { type: 'pairs'; peaks: Float64Array; secondaryRatios: Float64Array; correlations?: Float32Array[] }
  | { type: 'points-pairs'; shifts: Float64Array; secondaryRatios: Float64Array }
  | { type: 'error'; message: string; stack?: string };

let registrar: Registrar | undefined;
let pointRegistrar: PointRegistrar | undefined;
let points: BinnedPoints[] = [];
let storage: SpectrumStorage | undefined;
/** Autocorrelation peaks per grid (x, y, z), written by the main thread after phase 1. */
let origins: Float64Array | undefined;
let preparation: GridPreparation | undefined;
let fd = -1;
const cache = new Map<number, Float32Array>();
/** Spectra kept per worker when reading from disk: a pair chunk shares its first window. */
const DISK_CACHE_SPECTRA = 3;

function spectrumBytes(): number {
  return registrar!.fft.spectrumLength * 4;
}

function readSpectrum(index: number): Float32Array {
  if (storage!.kind === 'memory') return new Float32Array(storage!.buffers[index]);
  const hit = cache.get(index);
  if (hit) return hit;
  const bytes = spectrumBytes();
  const out = new Float32Array(bytes / 4);
  const view = new Uint8Array(out.buffer);
  let done = 0;
  while (done < bytes) done += readSync(fd, view, done, bytes - done, index * bytes + done);
  if (cache.size >= DISK_CACHE_SPECTRA) cache.delete(cache.keys().next().value!);
  cache.set(index, out);
  return out;
}

function writeSpectrum(index: number, spec: Float32Array): void {
  const bytes = spectrumBytes();
  const view = new Uint8Array(spec.buffer, spec.byteOffset, bytes);
  let done = 0;
  while (done < bytes) done += writeSync(fd, view, done, bytes - done, index * bytes + done);
}

async function handle(msg: WorkerRequest): Promise<WorkerReply | null> {
  switch (msg.type) {
    case 'warm': {
      // Started ahead of a run (the executor's warm()): compile the FFT's WebAssembly now.
      await loadPffft();
      return { type: 'ready' };
    }
    case 'init': {
      registrar = new Registrar(msg.plan, await loadPffft());
      storage = msg.storage;
      origins = new Float64Array(msg.origins);
      preparation = msg.prepare;
      // A reused worker (a batch of files) drops the previous run's cache file first.
      if (fd >= 0) closeSync(fd);
      fd = -1;
      cache.clear();
      if (storage.kind === 'disk') fd = openSync(storage.path, 'r+');
      return { type: 'ready' };
    }
    case 'spectrum': {
      const grid = new Float32Array(msg.grid);
      if (preparation) prepareGrid(preparation, grid, registrar!.plan.fftShape);
      const spec = storage!.kind === 'memory' ? new Float32Array(storage!.buffers[msg.index]) : new Float32Array(registrar!.fft.spectrumLength);
      registrar!.forward(grid, spec);
      if (storage!.kind === 'disk') writeSpectrum(msg.index, spec);
      return { type: 'spectrum', index: msg.index, origin: registrar!.peak(spec, spec) };
    }
    case 'pairs': {
      const n = msg.pairs.length / 2;
      const peaks = new Float64Array(3 * n).fill(NaN);
      const secondaryRatios = new Float64Array(n).fill(NaN);
      const correlations: Float32Array[] | undefined = msg.keepCorrelations ? [] : undefined;
      for (let p = 0; p < n; p++) {
        const i = msg.pairs[2 * p];
        const specI = readSpectrum(i);
        const specJ = readSpectrum(msg.pairs[2 * p + 1]);
        const m = registrar!.measure(specI, specJ);
        if (m && Number.isFinite(origins![3 * i])) {
          for (let a = 0; a < 3; a++) peaks[3 * p + a] = m.shift[a] - origins![3 * i + a];
          secondaryRatios[p] = m.secondaryRatio;
        }
        if (correlations) correlations.push(thresholdCorrelation(registrar!.correlationRegion(specI, specJ)));
      }
      return { type: 'pairs', peaks, secondaryRatios, correlations };
    }
    case 'points-init': {
      pointRegistrar = new PointRegistrar(msg.plan);
      points = msg.points;
      return { type: 'ready' };
    }
    case 'points-pairs': {
      // Raw peaks (not origin-corrected): the main thread subtracts the autocorrelation peaks.
      const n = msg.pairs.length / 2;
      const shifts = new Float64Array(3 * n).fill(NaN);
      const secondaryRatios = new Float64Array(n).fill(NaN);
      for (let p = 0; p < n; p++) {
        const m = pointRegistrar!.measure(points[msg.pairs[2 * p]], points[msg.pairs[2 * p + 1]]);
        if (!m) continue;
        shifts.set(m.shift, 3 * p);
        secondaryRatios[p] = m.secondaryRatio;
      }
      return { type: 'points-pairs', shifts, secondaryRatios };
    }
    case 'close': {
      registrar?.dispose();
      if (fd >= 0) closeSync(fd);
      return null;
    }
  }
}

let queue = Promise.resolve();
parentPort!.on('message', (msg: WorkerRequest) => {
  queue = queue.then(async () => {
    try {
      const reply = await handle(msg);
      if (reply) parentPort!.postMessage(reply);
      else parentPort!.close();
    } catch (err) {
      const e = err as Error;
      parentPort!.postMessage({ type: 'error', message: e.message, stack: e.stack } satisfies WorkerReply);
    }
  });
});
