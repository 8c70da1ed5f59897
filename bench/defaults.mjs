// Issue 10: `estimateDriftFromLocs(table)` at its defaults (parameters from the data + the fine
// stage) against RCC with the original example recipe's hand-set parameters (step = window =
// 1000, bin 20 nm, corr_window 5, shift_max 5, spline s = 10), both measured here, in this run.
// Times are wall-clock seconds of the estimate (the drift), as the library call takes them.
// Figures: per-frame RMSE per axis (offset removed) against the simulated truth, and seconds.
// Usage: node bench/defaults.mjs [scenario,…]
import { simulateLocalizations } from '../dist/src/core/simulate/simulateLocalizations.js';
import { estimateDriftFromLocs } from '../dist/src/core/drift/estimateDriftFromLocs.js';
import { createDriftInterpolator } from '../dist/src/core/drift/driftInterpolator.js';

const fast = [{ amplitudeNm: 60, periodFrames: 4000 }, { amplitudeNm: 40, periodFrames: 5000 }];
const scenarios = {
  'dense 130k, 20 µm': { locs: 130000, frames: 30000 },
  '1M, 20 µm': { locs: 1000000, frames: 30000 },
  '5M, 50k frames': { locs: 5000000, frames: 50000 },
  '130k + 4 beads': { locs: 130000, frames: 30000, beads: 4 },
  'fast drift + 2 jumps': { locs: 130000, frames: 30000, oscillations: fast, jumps: [{ frame: 11000, xNm: 90, yNm: -95 }, { frame: 21000, xNm: -120, yNm: 50 }] },
  'sparse 12k / 30k frames': { locs: 12000, frames: 30000 },
  '3D, 9 µm, z drift 200 nm': { locs: 130000, frames: 30000, dim: 3, driftAmplitudeZNm: 200, fieldNm: 9000 },
};
const pick = process.argv[2] ? process.argv[2].split(',') : Object.keys(scenarios);

function rmse(interp, truth, dims) {
  const ev = interp.evaluate(truth.t);
  return ['x', 'y', 'z'].slice(0, dims).map((a) => {
    let m = 0;
    for (let i = 0; i < truth.t.length; i++) m += ev[a][i] - truth[a][i];
    m /= truth.t.length;
    let s = 0;
    for (let i = 0; i < truth.t.length; i++) s += (ev[a][i] - truth[a][i] - m) ** 2;
    return Math.sqrt(s / truth.t.length);
  });
}
const f = (v) => v.map((e) => e.toFixed(2)).join(' / ');

console.log('Localizations at the defaults (auto + fine stage) vs the hand-set recipe RCC, same run:');
for (const name of Object.keys(scenarios).filter((n) => pick.some((p) => n.startsWith(p)))) {
  const o = scenarios[name];
  const sim = simulateLocalizations({ ...o, seed: 7 });
  const dims = o.dim === 3 ? 3 : 2;
  let t = performance.now();
  // RCC alone, without the validation pass of its standard errors (driftUncertainty.ts): the
  // strictest time to compare the defaults with.
  const hand = await estimateDriftFromLocs(sim.table, { stepFrames: 1000, windowFrames: 1000, binSizeNm: 20, shiftMaxNm: 5, corrWindow: 5, refine: false, validateUncertainty: false });
  const handInterp = createDriftInterpolator([hand.drift], { smoothing: 10 });
  const tHand = (performance.now() - t) / 1000;
  t = performance.now();
  const rcc = await estimateDriftFromLocs(sim.table, { refine: false, validateUncertainty: false });
  const tRcc = (performance.now() - t) / 1000;
  t = performance.now();
  const def = await estimateDriftFromLocs(sim.table);
  const defInterp = createDriftInterpolator([def.drift], { smoothing: 'auto' });
  const tDef = (performance.now() - t) / 1000;
  console.log(
    `  ${name.padEnd(26)} defaults ${f(rmse(defInterp, sim.truth, dims))} nm in ${tDef.toFixed(1)} s` +
      ` | hand-set RCC ${f(rmse(handInterp, sim.truth, dims))} nm in ${tHand.toFixed(1)} s` +
      ` | defaults / hand-set time ${(tDef / tHand).toFixed(2)}×, / auto RCC alone (${tRcc.toFixed(1)} s) ${(tDef / tRcc).toFixed(2)}×`,
  );
  console.log(`  ${''.padEnd(26)} ${def.choices.summary}`);
}
