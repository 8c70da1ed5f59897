/**
 * A CorrelationExecutor for the browser (src/core/registration/correlationExecutor.ts): the
 * spectra and the pairs of a registration run on several workers (correlationWorker.ts) when
 * the machine has the cores, the data (task.fillGrid) staying in the calling worker. Without
 * cross-origin isolation there is no SharedArrayBuffer: grids and spectra move as transferred
 * buffers, and each pair worker gets a copy of the spectra (memory: one copy per worker).
 * Each spectrum and each pair is computed by the same code as the inline executor, so the
 * drift is the same to the last bit; only the wall time changes.
 *
 * The workers are started when the numerics worker starts (`warmPool`, each loading the
 * WebAssembly FFT) and kept between runs, so a run needs no file from the network (a page
 * loaded, then offline) and does not wait for workers to start.
 */
import {
  inlineExecutor,
  prefersPoints,
  runPointCorrelations,
  type CorrelationExecutor,
  type CorrelationResult,
  type CorrelationTask,
} from '../../src/core/registration/correlationExecutor.js';
import { PointRegistrar } from '../../src/core/registration/pointCorrelation.js';
import type { ProgressReporter } from '../../src/core/types.js';
import type { PoolReply, PoolRequest } from './correlationWorker.js';

/** Below this many grids the inline executor is as fast as starting workers. */
const MIN_GRIDS_FOR_POOL = 6;
/** Most workers the pool starts (each holds a copy of the spectra during the pairs). */
export const MAX_POOL_WORKERS = 4;

/** Started workers not running a task. */
const idle: PoolWorker[] = [];

class PoolWorker {
  private readonly worker = new Worker(new URL('./correlationWorker.ts', import.meta.url), { type: 'module' });
  private readonly waiting: { resolve(r: PoolReply): void; reject(e: Error): void }[] = [];
  onProgress?: (done: number) => void;

  constructor() {
    this.worker.onmessage = (ev: MessageEvent<PoolReply>) => {
      const m = ev.data;
      if (m.type === 'progress') return this.onProgress?.(m.done);
      const w = this.waiting.shift();
      if (m.type === 'error') w?.reject(new Error(m.message));
      else w?.resolve(m);
    };
    this.worker.onerror = (ev) => {
      // A worker whose script cannot be loaded (the page offline with no stored copy) gives no message.
      const why = ev.message || 'its script could not be loaded (is the page offline?)';
      for (const w of this.waiting.splice(0)) w.reject(new Error(`a correlation worker failed: ${why}`));
    };
  }

  /** Send a request; replies come in order. */
  call<T extends PoolReply>(m: PoolRequest, transfer: Transferable[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ resolve: resolve as (r: PoolReply) => void, reject });
      this.worker.postMessage(m, transfer);
    });
  }

  terminate(): void {
    this.worker.terminate();
  }
}

/** Start `count` pool workers now (each loads the FFT); resolves when they are ready. */
export async function warmPool(count: number): Promise<void> {
  const started = Array.from({ length: count }, () => new PoolWorker());
  try {
    await Promise.all(started.map((w) => w.call({ type: 'warm' })));
  } catch (err) {
    for (const w of started) w.terminate();
    throw err;
  }
  idle.push(...started);
}

/** `n` workers for a task: the warm ones first, then new ones. */
function takeWorkers(n: number): PoolWorker[] {
  const taken = idle.splice(0, n);
  while (taken.length < n) taken.push(new PoolWorker());
  return taken;
}

/** After a task: each worker frees its FFT plans and goes back to the idle list. */
function release(pool: PoolWorker[]): void {
  for (const w of pool) {
    w.onProgress = undefined;
    void w.call({ type: 'close' }).then(
      () => idle.push(w),
      () => w.terminate(),
    );
  }
}

export function createPoolExecutor(workers: number): CorrelationExecutor {
  return {
    async run(task: CorrelationTask, progress?: ProgressReporter): Promise<CorrelationResult> {
      const n = Math.min(workers, MAX_POOL_WORKERS, Math.floor(task.count / 2));
      if (n <= 1 || task.count < MIN_GRIDS_FOR_POOL) return inlineExecutor.run(task, progress);
      // The route the CLI takes: sparse grids are correlated from their points (in this worker),
      // so the drift is the CLI's to the bit.
      if (task.points && !task.keepCorrelations) {
        const registrar = new PointRegistrar(task.plan);
        if ((await prefersPoints(task, registrar)) !== null) return runPointCorrelations(task, progress, registrar);
      }
      const pool = takeWorkers(n);
      let ok = false;
      try {
        await Promise.all(pool.map((w) => w.call({ type: 'init', plan: task.plan, prepare: task.prepare })));
        const { nx, ny, nz } = task.plan.fftShape;
        const count = task.count;
        const spectra: Float32Array[] = new Array(count);
        const origins = new Float64Array(3 * count).fill(NaN);
        progress?.start?.('spectra', count);
        let next = 0;
        let done = 0;
        // The grids are filled here, one at a time, while the workers transform the others.
        await Promise.all(
          pool.map(async (w) => {
            while (next < count) {
              const i = next++;
              const grid = new Float32Array(nx * ny * nz);
              await task.fillGrid(i, grid);
              const r = await w.call<Extract<PoolReply, { type: 'spectrum' }>>({ type: 'spectrum', index: i, grid }, [grid.buffer]);
              spectra[i] = r.spectrum;
              if (r.origin) origins.set(r.origin, 3 * i);
              progress?.update?.(++done);
            }
          }),
        );
        progress?.stop?.();

        const nPairs = task.pairs.length / 2;
        const shifts = new Float64Array(3 * nPairs).fill(NaN);
        const secondaryRatios = new Float64Array(nPairs).fill(NaN);
        const correlations: Float32Array[] | undefined = task.keepCorrelations ? new Array(nPairs) : undefined;
        progress?.start?.('correlations', nPairs);
        const chunk = Math.ceil(nPairs / n);
        const doneBy = new Array(n).fill(0);
        const regionShape = [0, 1, 2].map((a) => task.plan.shiftHi[a] - task.plan.shiftLo[a]) as [number, number, number];
        await Promise.all(
          pool.map(async (w, k) => {
            const p0 = Math.min(nPairs, k * chunk);
            const p1 = Math.min(nPairs, p0 + chunk);
            if (p1 <= p0) return;
            w.onProgress = (d) => {
              doneBy[k] = d;
              progress?.update?.(doneBy.reduce((a, b) => a + b, 0));
            };
            const r = await w.call<Extract<PoolReply, { type: 'pairs' }>>({
              type: 'pairs',
              spectra,
              origins,
              pairs: task.pairs.slice(2 * p0, 2 * p1),
              keepCorrelations: task.keepCorrelations ?? false,
            });
            shifts.set(r.shifts, 3 * p0);
            secondaryRatios.set(r.secondaryRatios, p0);
            if (correlations && r.correlations) for (let p = 0; p < r.correlations.length; p++) correlations[p0 + p] = r.correlations[p];
            doneBy[k] = p1 - p0;
            progress?.update?.(doneBy.reduce((a, b) => a + b, 0));
          }),
        );
        progress?.stop?.();
        ok = true;
        return { shifts, origins, secondaryRatios, correlations, regionShape };
      } finally {
        // A failed task may leave replies in flight: those workers are not reused.
        if (ok) release(pool);
        else for (const w of pool) w.terminate();
      }
    },
  };
}
