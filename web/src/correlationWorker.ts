/**
 * A correlation worker of the browser pool (poolExecutor.ts), the browser counterpart of
 * src/node/correlationWorker.ts without SharedArrayBuffer (a static site is not cross-origin
 * isolated): grids come in and spectra go back as transferred buffers; for the pairs, each
 * worker receives a copy of the spectra. The same core code as the inline executor computes
 * each spectrum and each pair, so the results are identical.
 */
import { loadPffft } from '../../src/core/fft/pffft.js';
import { thresholdCorrelation } from '../../src/core/registration/correlationExecutor.js';
import { prepareGrid, type GridPreparation } from '../../src/core/registration/prepareGrid.js';
import { Registrar, type RegistrationPlan } from '../../src/core/registration/registrar.js';

export type PoolRequest =
  | { type: 'init'; plan: RegistrationPlan; prepare?: GridPreparation }
  | { type: 'spectrum'; index: number; grid: Float32Array }
  | { type: 'pairs'; spectra: Float32Array[]; origins: Float64Array; pairs: Int32Array; keepCorrelations: boolean }
  | { type: 'warm' }
  | { type: 'close' };

export type PoolReply =
  | { type: 'ready' }
  | { type: 'closed' }
  | { type: 'spectrum'; index: number; spectrum: Float32Array; origin: [number, number, number] | null }
  | { type: 'pairs'; shifts: Float64Array; secondaryRatios: Float64Array; correlations?: Float32Array[] }
  | { type: 'progress'; done: number }
  | { type: 'error'; message: string };

/** Pair progress is reported at most this often. */
const PROGRESS_INTERVAL_MS = 100;

let registrar: Registrar | undefined;
let preparation: GridPreparation | undefined;
const post = (m: PoolReply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(m, transfer);

async function handle(m: PoolRequest): Promise<void> {
  switch (m.type) {
    case 'init':
      registrar?.dispose();
      registrar = new Registrar(m.plan, await loadPffft());
      preparation = m.prepare;
      post({ type: 'ready' });
      return;
    case 'spectrum': {
      const r = registrar!;
      if (preparation) prepareGrid(preparation, m.grid, r.plan.fftShape);
      const spectrum = new Float32Array(r.fft.spectrumLength);
      r.forward(m.grid, spectrum);
      post({ type: 'spectrum', index: m.index, spectrum, origin: r.peak(spectrum, spectrum) }, [spectrum.buffer]);
      return;
    }
    case 'pairs': {
      const r = registrar!;
      const { spectra, origins, pairs } = m;
      const nPairs = pairs.length / 2;
      const shifts = new Float64Array(3 * nPairs).fill(NaN);
      const secondaryRatios = new Float64Array(nPairs).fill(NaN);
      const correlations: Float32Array[] | undefined = m.keepCorrelations ? [] : undefined;
      let last = performance.now();
      for (let p = 0; p < nPairs; p++) {
        const i = pairs[2 * p];
        const j = pairs[2 * p + 1];
        const got = r.measure(spectra[i], spectra[j]);
        if (got && Number.isFinite(origins[3 * i])) {
          for (let a = 0; a < 3; a++) shifts[3 * p + a] = got.shift[a] - origins[3 * i + a];
          secondaryRatios[p] = got.secondaryRatio;
        }
        if (correlations) correlations.push(thresholdCorrelation(r.correlationRegion(spectra[i], spectra[j])));
        if (performance.now() - last > PROGRESS_INTERVAL_MS) {
          last = performance.now();
          post({ type: 'progress', done: p + 1 });
        }
      }
      post({ type: 'pairs', shifts, secondaryRatios, correlations }, [shifts.buffer, secondaryRatios.buffer]);
      return;
    }
    case 'warm':
      await loadPffft();
      post({ type: 'ready' });
      return;
    case 'close':
      registrar?.dispose();
      registrar = undefined;
      preparation = undefined;
      post({ type: 'closed' });
      return;
  }
}

// The FFT's WebAssembly is fetched as the worker starts.
void loadPffft().catch(() => undefined);

// Messages are handled one after another, in order (init finishes before the first grid).
let chain = Promise.resolve();
self.onmessage = (ev: MessageEvent<PoolRequest>) => {
  chain = chain.then(() => handle(ev.data)).catch((err) => post({ type: 'error', message: (err as Error).message }));
};
