/**
 * The Node executor: correlations on a pool of worker threads. Spectra (float32) live in
 * shared memory, or — when they would exceed the memory budget, or a cache file is asked
 * for — in a disk cache that is removed afterwards, also on error or Ctrl-C.
 *
 * The main thread fills grids (histograms or image frames: cheap, and the data lives here);
 * workers do the FFTs and the pair correlations.
 */
import { existsSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import {
  inlineExecutor,
  prefersPoints,
  runPointCorrelations,
  type CorrelationExecutor,
  type CorrelationResult,
  type CorrelationTask,
} from '../core/registration/correlationExecutor.js';
import type { ProgressReporter } from '../core/types.js';
import { PointRegistrar } from '../core/registration/pointCorrelation.js';
import { trackTemporary } from '../io/atomic.js';
import type { SpectrumStorage, WorkerReply, WorkerRequest } from './correlationWorker.js';

/** Default share of the machine's memory the spectra may take before spilling to disk. */
export const DEFAULT_MEMORY_FRACTION = 0.4;
/** The points route runs on the pool only when estimated to take longer than this in one thread. */
const POINTS_POOL_MIN_NS = 3e9;
/** Share of the machine's memory the workers' scratch buffers may take together. */
const WORKER_SCRATCH_FRACTION = 0.25;

export interface WorkerExecutorOptions {
  /** Worker threads (default: all cores). 0 or 1 runs inline in this thread. */
  workers?: number;
  /** Bytes of spectra kept in memory before they go to a disk cache. */
  memoryBudgetBytes?: number;
  /** Keep the spectra in this file (removed afterwards) instead of memory. */
  cacheFile?: string;
  /**
   * Correlate localization windows from their points (core/registration/pointCorrelation.ts):
   * 'auto' when the cost model says it is cheaper than FFTs, 'off' never (FFTs), 'always'
   * whenever the task has points (on the pool when workers > 1). @default 'auto'
   */
  pointsRoute?: 'auto' | 'off' | 'always';
  /** Told which storage was chosen (for the CLI's messages and the benchmark). */
  onStorage?: (info: { kind: 'memory' | 'disk' | 'points'; bytes: number; path?: string; workers: number }) => void;
}

export function defaultMemoryBudgetBytes(): number {
  return Math.floor(totalmem() * DEFAULT_MEMORY_FRACTION);
}

/** The compiled worker script; tests and the CLI run the built code in dist/. */
function workerScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const sibling = join(here, 'correlationWorker.js');
  if (existsSync(sibling)) return sibling;
  const built = join(here, '..', '..', 'dist', 'src', 'node', 'correlationWorker.js');
  if (existsSync(built)) return built;
  throw new Error(`worker script not found next to ${here} nor in dist/: run 'npm run build' first`);
}

class PoolWorker {
  private readonly worker: Worker;
  private pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }[] = [];

  constructor(script: string) {
    this.worker = new Worker(script);
    this.worker.on('message', (reply: WorkerReply) => {
      const p = this.pending.shift();
      if (!p) return;
      if (reply.type === 'error') {
        const err = new Error(reply.message);
        if (reply.stack) err.stack = reply.stack;
        p.reject(err);
      } else p.resolve(reply);
    });
    this.worker.on('error', (err) => this.pending.splice(0).forEach((p) => p.reject(err)));
  }

  request(msg: WorkerRequest): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.worker.postMessage(msg);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  /** An idle worker does not keep the process alive; a working one does. */
  setBusy(busy: boolean): void {
    if (busy) this.worker.ref();
    else this.worker.unref();
  }
}

export function createWorkerExecutor(options: WorkerExecutorOptions = {}): CorrelationExecutor {
  const nWorkers = options.workers ?? availableParallelism();
  const budget = options.memoryBudgetBytes ?? defaultMemoryBudgetBytes();
  // Workers of finished in-memory runs wait here for the next run of this executor (a batch of
  // files reuses them instead of starting threads again); disk-cache runs close theirs, which
  // hold the removed cache file open.
  const idle: PoolWorker[] = [];
  return {
    warm() {
      // Threads that wait idle do not keep the process alive (unref), and a run takes them first.
      if (options.cacheFile || nWorkers <= 1 || idle.length > 0) return;
      const script = workerScript();
      for (let i = 0; i < nWorkers; i++) {
        const w = new PoolWorker(script);
        w.setBusy(false);
        // A failure to start shows when a run asks the worker for work; nothing waits on this.
        w.request({ type: 'warm' }).catch(() => undefined);
        idle.push(w);
      }
    },
    async run(task: CorrelationTask, progress?: ProgressReporter): Promise<CorrelationResult> {
      // A cache file asked for (--cache-fft) means spectra on disk: the FFT route.
      const route = options.cacheFile ? 'off' : (options.pointsRoute ?? 'auto');
      // One registrar for the cost model and the run: its merged points and indexes are reused.
      const pointRegistrar = task.points && route !== 'off' && !task.keepCorrelations ? new PointRegistrar(task.plan) : undefined;
      const pointsNs = !pointRegistrar ? null : route === 'always' ? Infinity : await prefersPoints(task, pointRegistrar);
      if (pointsNs !== null) {
        // Small jobs stay in this thread: starting workers and indexing the points in each costs more.
        const poolSize = pointsNs < POINTS_POOL_MIN_NS ? 1 : Math.max(1, Math.min(nWorkers, task.pairs.length / 2));
        options.onStorage?.({ kind: 'points', bytes: 0, workers: poolSize });
        return poolSize <= 1 ? runPointCorrelations(task, progress, pointRegistrar) : runPointsOnPool(task, poolSize, progress);
      }
      const { count, pairs, plan } = task;
      const { nx, ny, nz } = plan.fftShape;
      const specFloats = 2 * (nx / 2 + 1) * ny * nz;
      const specBytes = specFloats * 4;
      const totalBytes = specBytes * count;
      const useDisk = !!options.cacheFile || totalBytes > budget;
      if (nWorkers <= 1 && !useDisk) {
        options.onStorage?.({ kind: 'memory', bytes: totalBytes, workers: 1 });
        // The FFT route was chosen (or asked for): the inline executor must not re-decide.
        return inlineExecutor.run({ ...task, points: undefined }, progress);
      }
      // Each worker holds a product spectrum, a correlation grid and (disk cache) a few spectra:
      // more workers than memory allows would only swap.
      const gridFloats = nx * ny * nz;
      const perWorkerBytes = 4 * (specFloats + gridFloats) + (useDisk ? 3 * specBytes : 0);
      const byMemory = Math.max(1, Math.floor((totalmem() * WORKER_SCRATCH_FRACTION) / perWorkerBytes));
      const poolSize = Math.max(1, Math.min(nWorkers, byMemory, count));
      let storage: SpectrumStorage;
      let untrack: () => unknown = () => undefined;
      let cachePath: string | undefined;
      if (useDisk) {
        cachePath = options.cacheFile ?? join(tmpdir(), `ccdrift-fft-${process.pid}-${randomBytes(4).toString('hex')}.cache`);
        untrack = trackTemporary(cachePath);
        const fh = await open(cachePath, 'w');
        await fh.truncate(totalBytes);
        await fh.close();
        storage = { kind: 'disk', path: cachePath };
      } else {
        storage = { kind: 'memory', buffers: Array.from({ length: count }, () => new SharedArrayBuffer(specBytes)) };
      }
      options.onStorage?.({ kind: storage.kind, bytes: totalBytes, path: cachePath, workers: poolSize });

      const script = workerScript();
      const workers = Array.from({ length: poolSize }, () => idle.pop() ?? new PoolWorker(script));
      for (const w of workers) w.setBusy(true);
      let reusable = storage.kind === 'memory';
      try {
        const originsBuffer = new SharedArrayBuffer(3 * count * 8);
        const origins = new Float64Array(originsBuffer).fill(NaN);
        await Promise.all(workers.map((w) => w.request({ type: 'init', plan, storage, origins: originsBuffer, prepare: task.prepare })));

        // Phase 1: spectra. One grid buffer per worker; the main thread fills the next grid
        // while the workers transform.
        let next = 0;
        let done = 0;
        progress?.start?.('spectra', count);
        await Promise.all(
          workers.map(async (w) => {
            const buf = new SharedArrayBuffer(gridFloats * 4);
            const grid = new Float32Array(buf);
            while (next < count) {
              const index = next++;
              grid.fill(0);
              await task.fillGrid(index, grid);
              const reply = await w.request({ type: 'spectrum', index, grid: buf });
              if (reply.type === 'spectrum' && reply.origin) origins.set(reply.origin, 3 * index);
              progress?.update?.(++done);
            }
          }),
        );
        progress?.stop?.();

        // Phase 2: pairs, in chunks that share their first window (one disk read for several pairs).
        const nPairs = pairs.length / 2;
        const chunks: number[][] = [];
        for (let p = 0; p < nPairs; p++) {
          const last = chunks[chunks.length - 1];
          if (last && pairs[2 * last[0]] === pairs[2 * p] && last.length < 8) last.push(p);
          else chunks.push([p]);
        }
        const shifts = new Float64Array(3 * nPairs).fill(NaN);
        const secondaryRatios = new Float64Array(nPairs).fill(NaN);
        const correlations: Float32Array[] | undefined = task.keepCorrelations ? new Array(nPairs) : undefined;
        let nextChunk = 0;
        let pairsDone = 0;
        progress?.start?.('correlations', nPairs);
        await Promise.all(
          workers.map(async (w) => {
            while (nextChunk < chunks.length) {
              const chunk = chunks[nextChunk++];
              const sub = new Int32Array(2 * chunk.length);
              chunk.forEach((p, k) => {
                sub[2 * k] = pairs[2 * p];
                sub[2 * k + 1] = pairs[2 * p + 1];
              });
              const reply = await w.request({ type: 'pairs', pairs: sub, keepCorrelations: !!task.keepCorrelations });
              if (reply.type !== 'pairs') continue;
              chunk.forEach((p, k) => {
                shifts.set(reply.peaks.subarray(3 * k, 3 * k + 3), 3 * p);
                secondaryRatios[p] = reply.secondaryRatios[k];
                if (correlations && reply.correlations) correlations[p] = reply.correlations[k];
              });
              pairsDone += chunk.length;
              progress?.update?.(pairsDone);
            }
          }),
        );
        progress?.stop?.();
        const regionShape = [0, 1, 2].map((a) => plan.shiftHi[a] - plan.shiftLo[a]) as [number, number, number];
        return { shifts, origins, secondaryRatios, correlations, regionShape };
      } catch (err) {
        reusable = false;
        throw err;
      } finally {
        if (reusable) {
          for (const w of workers) w.setBusy(false);
          idle.push(...workers);
        } else await Promise.all(workers.map((w) => w.close()));
        if (cachePath) {
          await rm(cachePath, { force: true });
          untrack();
        }
      }
    },
  };
}

/** The points route (core/registration/pointCorrelation.ts) with its pairs spread over a pool. */
async function runPointsOnPool(task: CorrelationTask, poolSize: number, progress?: ProgressReporter): Promise<CorrelationResult> {
  const { count, pairs, plan } = task;
  const points = Array.from({ length: count }, (_, i) => task.points!(i));
  const workers = Array.from({ length: poolSize }, () => new PoolWorker(workerScript()));
  try {
    await Promise.all(workers.map((w) => w.request({ type: 'points-init', plan, points })));
    /** Measure `list` (pairs i, j) in chunks over the pool; raw peaks and ratios. */
    const measureAll = async (list: Int32Array, stage: string) => {
      const n = list.length / 2;
      const shifts = new Float64Array(3 * n).fill(NaN);
      const ratios = new Float64Array(n).fill(NaN);
      const chunk = Math.max(1, Math.min(8, Math.ceil(n / (4 * poolSize))));
      let next = 0;
      let done = 0;
      progress?.start?.(stage, n);
      await Promise.all(
        workers.map(async (w) => {
          while (next < n) {
            const from = next;
            next = Math.min(n, next + chunk);
            const reply = await w.request({ type: 'points-pairs', pairs: list.slice(2 * from, 2 * next) });
            if (reply.type !== 'points-pairs') continue;
            shifts.set(reply.shifts, 3 * from);
            ratios.set(reply.secondaryRatios, from);
            done += reply.secondaryRatios.length;
            progress?.update?.(done);
          }
        }),
      );
      progress?.stop?.();
      return { shifts, ratios };
    };
    const self = new Int32Array(2 * count);
    for (let i = 0; i < count; i++) self[2 * i] = self[2 * i + 1] = i;
    const origins = (await measureAll(self, 'spectra')).shifts;
    const measured = await measureAll(pairs, 'correlations');
    const nPairs = pairs.length / 2;
    const shifts = new Float64Array(3 * nPairs).fill(NaN);
    const secondaryRatios = new Float64Array(nPairs).fill(NaN);
    for (let p = 0; p < nPairs; p++) {
      const i = pairs[2 * p];
      if (!Number.isFinite(measured.shifts[3 * p]) || !Number.isFinite(origins[3 * i])) continue;
      for (let a = 0; a < 3; a++) shifts[3 * p + a] = measured.shifts[3 * p + a] - origins[3 * i + a];
      secondaryRatios[p] = measured.ratios[p];
    }
    const regionShape = [0, 1, 2].map((a) => plan.shiftHi[a] - plan.shiftLo[a]) as [number, number, number];
    return { shifts, origins, secondaryRatios, regionShape, fromPoints: true };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}
