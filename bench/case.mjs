// One benchmark case in its own process, so that peak RSS belongs to it alone.
// Usage: node bench/case.mjs '{"locs":1e6,"dim":2,"binsize":20,"step":1000,"workers":2}'
import { simulateLocalizations } from '../dist/src/core/simulate/simulateLocalizations.js';
import { estimateDriftFromLocs } from '../dist/src/core/drift/estimateDriftFromLocs.js';
import { createDriftInterpolator } from '../dist/src/core/drift/driftInterpolator.js';
import { applyDriftToTable } from '../dist/src/core/drift/applyDriftToTable.js';
import { createWorkerExecutor } from '../dist/src/node/workerExecutor.js';

const c = JSON.parse(process.argv[2]);
const frames = c.frames ?? 30000;
let tSim = performance.now();
const sim = simulateLocalizations({ frames, locs: c.locs, dim: c.dim, seed: 7, fieldNm: c.fieldNm ?? 20000, ...(c.sim ?? {}) });
tSim = performance.now() - tSim;
globalThis.gc?.();
const cols = sim.table.columns;
const stages = {};
let current;
let started = 0;
let storage;
const progress = {
  start(stage) {
    current = stage;
    started = performance.now();
  },
  stop() {
    stages[current] = (stages[current] ?? 0) + (performance.now() - started);
  },
};
const executor = createWorkerExecutor({
  workers: c.workers,
  memoryBudgetBytes: c.memoryBudget,
  pointsRoute: c.route,
  onStorage: (s) => (storage = s),
});
const t0 = performance.now();
const res = await estimateDriftFromLocs(
  { x: cols.get('x'), y: cols.get('y'), z: c.dim === 3 ? cols.get('z') : undefined, t: cols.get('t') },
  {
    stepFrames: c.step,
    windowFrames: c.step,
    binSizeNm: c.binsize,
    flattenZ: false,
    tukeySize: 0.25,
    method: 'RCC',
    shiftMaxNm: 5,
    corrWindow: 5,
    refine: false,
  },
  { executor, progress },
);
const tRcc = performance.now() - t0;
let t1 = performance.now();
const interp = createDriftInterpolator([res.drift], { degree: 3, smoothing: 10 });
const tSpline = performance.now() - t1;
t1 = performance.now();
applyDriftToTable(sim.table, interp);
const tApply = performance.now() - t1;
// RMSE against the truth at the window centres (after offset removal), as a sanity check.
const err = ['x', 'y', 'z'].map((a) => {
  const d = Array.from(res.drift.t, (t, i) => res.drift[a][i] - sim.truth[a][Math.round(t)]);
  const m = d.reduce((p, q) => p + q, 0) / d.length;
  return Math.sqrt(d.reduce((p, q) => p + (q - m) ** 2, 0) / d.length);
});
console.log(
  JSON.stringify({
    case: c,
    windows: res.windows.length,
    grid: res.grid.bins,
    fft: res.plan.fftShape,
    pairs: res.pairs.length / 2,
    storage,
    ms: { simulate: tSim, ...stages, rccTotal: tRcc, spline: tSpline, apply: tApply },
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    rmseNm: err,
  }),
);
