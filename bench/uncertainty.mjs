// Issue 15: calibration of the drift's standard errors at the defaults on simulated acquisitions
// with known drift, including the 1 M-localization case (too slow for the test suite): the
// share of samples whose true error (mean error removed) lies within ±2 sd, per scenario and
// pooled, and of frames within ±2 sd of the smoothed per-frame drift.
// Usage: npm run build && node bench/uncertainty.mjs [scenario,…]
import { simulateLocalizations } from '../dist/src/core/simulate/simulateLocalizations.js';
import { estimateDriftFromLocs } from '../dist/src/core/drift/estimateDriftFromLocs.js';
import { createDriftInterpolator } from '../dist/src/core/drift/driftInterpolator.js';

const fast = [
  { amplitudeNm: 60, periodFrames: 4000 },
  { amplitudeNm: 40, periodFrames: 5000 },
];
const scenarios = {
  '1M, 20 µm': { sim: { locs: 1_000_000, frames: 30_000 } },
  'dense 130k': { sim: { locs: 130_000, frames: 30_000 } },
  'fast drift + 2 jumps': {
    sim: {
      locs: 130_000,
      frames: 30_000,
      oscillations: fast,
      jumps: [
        { frame: 11000, xNm: 90, yNm: -95 },
        { frame: 21000, xNm: -120, yNm: 50 },
      ],
    },
  },
  'sparse 12k / 30k frames': { sim: { locs: 12_000, frames: 30_000 } },
  '3D, 9 µm': { sim: { locs: 130_000, frames: 30_000, dim: 3, driftAmplitudeZNm: 200, fieldNm: 9000 } },
  'RCC alone, hand-set (step 1000, bin 20)': {
    sim: { locs: 130_000, frames: 30_000 },
    options: { stepFrames: 1000, windowFrames: 1000, binSizeNm: 20, shiftMaxNm: 5, corrWindow: 5, refine: false },
  },
};
const pick = process.argv[2] ? process.argv[2].split(',') : Object.keys(scenarios);

function truthAt(truth, t, a) {
  const f = Math.min(Math.floor(t), truth.t.length - 2);
  const g = t - f;
  return truth[a][f] * (1 - g) + truth[a][f + 1] * g;
}
function within(t, v, sd, truth, a) {
  const e = Array.from(t, (ti, i) => v[i] - truthAt(truth, ti, a));
  const m = e.reduce((p, q) => p + q, 0) / e.length;
  let inside = 0;
  e.forEach((x, i) => {
    if (Math.abs(x - m) <= 2 * sd[i]) inside++;
  });
  const rms = Math.sqrt(e.reduce((p, q) => p + (q - m) ** 2, 0) / e.length);
  const rmsSd = Math.sqrt(sd.reduce((p, q) => p + q * q, 0) / sd.length);
  return { inside, total: e.length, rms, rmsSd };
}

let pooledIn = 0;
let pooledN = 0;
console.log('Drift standard errors at the defaults: share of samples within ±2 sd of the truth (offset removed)');
for (const name of Object.keys(scenarios).filter((n) => pick.some((p) => n.startsWith(p)))) {
  for (const seed of [7, 8]) {
    const { sim: o, options } = scenarios[name];
    const sim = simulateLocalizations({ ...o, seed });
    const t0 = performance.now();
    const r = await estimateDriftFromLocs(sim.table, options ?? {});
    const seconds = (performance.now() - t0) / 1000;
    const d = r.drift;
    const axes = o.dim === 3 ? ['x', 'y', 'z'] : ['x', 'y'];
    const interp = createDriftInterpolator([d], { smoothing: 'auto' });
    const frames = Float64Array.from({ length: Math.floor(d.t[d.t.length - 1] - d.t[0]) }, (_, i) => Math.ceil(d.t[0]) + i);
    const curve = interp.evaluate(frames);
    const curveSd = interp.evaluateSd(frames);
    let inS = 0,
      nS = 0,
      inF = 0,
      nF = 0;
    const parts = [];
    for (const a of axes) {
      const s = within(d.t, d[a], d.sd[a], sim.truth, a);
      const f = within(frames, curve[a], curveSd[a], sim.truth, a);
      inS += s.inside;
      nS += s.total;
      inF += f.inside;
      nF += f.total;
      parts.push(`${a} err ${s.rms.toFixed(2)} sd ${s.rmsSd.toFixed(2)}`);
    }
    pooledIn += inS;
    pooledN += nS;
    console.log(
      `  ${`${name}, seed ${seed}`.padEnd(48)} samples ${((100 * inS) / nS).toFixed(1)} % of ${nS} | per frame ${((100 * inF) / nF).toFixed(1)} % | ${parts.join(', ')} nm (RMS) | ${seconds.toFixed(1)} s`,
    );
  }
}
console.log(`  pooled: ${((100 * pooledIn) / pooledN).toFixed(1)} % of ${pooledN} sample-axes within ±2 sd`);
