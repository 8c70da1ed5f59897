// Issue 10: `estimateDriftFromLocs(table)` at its defaults (parameters from the data + the fine
// stage) against RCC with the original example recipe's hand-set parameters (step = window =
// 1000, bin 20 nm, corr_window 5, shift_max 5, spline s = 10), both measured here, in this run.
// Figures: per-frame RMSE per axis (offset removed) against the simulated truth, and the time of
// the drift (estimate + spline), wall-clock and CPU (process.cpuUsage: all threads; the machine is
// shared, so CPU is the steadier figure). The defaults' time is split into its phases: its own RCC
// (automatic parameters for a fine stage to follow), the fine stage, the validation of standard
// errors (none at the defaults: the fine stage's own are used), and the smoothing spline.
// The time requirement ("within 1.5× the time of RCC alone") is read three ways, each printed:
//   ÷ own RCC   — the whole at defaults over its own RCC phase (the fine stage must cost ≤ 0.5×);
//   ÷ hand-set  — over the hand-set recipe RCC (fastest RCC a user would run, no validation);
//   ÷ RCC alone — over RCC alone at the automatic parameters (--refine off, no validation).
// Usage: node bench/defaults.mjs [scenario,…] [--seed N] [--reps N] (reps: best of N per timing)
import { simulateLocalizations } from '../dist/src/core/simulate/simulateLocalizations.js';
import { estimateDriftFromLocs } from '../dist/src/core/drift/estimateDriftFromLocs.js';
import { createDriftInterpolator } from '../dist/src/core/drift/driftInterpolator.js';
import { formatAxes as f, rmse } from './driftError.mjs';

const fast = [
  { amplitudeNm: 60, periodFrames: 4000 },
  { amplitudeNm: 40, periodFrames: 5000 },
];
const scenarios = {
  'dense 130k, 20 µm': { locs: 130000, frames: 30000 },
  '1M, 20 µm': { locs: 1000000, frames: 30000 },
  '5M, 50k frames': { locs: 5000000, frames: 50000 },
  '130k + 4 beads': { locs: 130000, frames: 30000, beads: 4 },
  'fast drift + 2 jumps': {
    locs: 130000,
    frames: 30000,
    oscillations: fast,
    jumps: [
      { frame: 11000, xNm: 90, yNm: -95 },
      { frame: 21000, xNm: -120, yNm: 50 },
    ],
  },
  'sparse 12k / 30k frames': { locs: 12000, frames: 30000 },
  '3D, 9 µm, z drift 200 nm': { locs: 130000, frames: 30000, dim: 3, driftAmplitudeZNm: 200, fieldNm: 9000 },
};
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args.splice(i, 2)[1]) : dflt;
};
const seed = flag('--seed', 7);
const reps = flag('--reps', 1);
const pick = args[0] ? args[0].split(',') : Object.keys(scenarios);

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const clock = () => ({ wall: performance.now() / 1000, cpu: cpuNow() });
const since = (a, b = clock()) => ({ wall: b.wall - a.wall, cpu: b.cpu - a.cpu });
const best = (a, b) => (a ? { wall: Math.min(a.wall, b.wall), cpu: Math.min(a.cpu, b.cpu) } : b);
const s = (t) => `${t.wall.toFixed(2)} s`;
const ratio = (a, b) => `${(a.wall / b.wall).toFixed(2)}× (CPU ${(a.cpu / b.cpu).toFixed(2)}×)`;

console.log(`Localizations at the defaults (auto + fine stage) vs RCC alone, seed ${seed}, best of ${reps}, same run:`);
for (const name of Object.keys(scenarios).filter((n) => pick.some((p) => n.startsWith(p)))) {
  const o = scenarios[name];
  const sim = simulateLocalizations({ ...o, seed });
  const dims = o.dim === 3 ? 3 : 2;
  let tHand, tAlone, tDef, handErr, defErr, summary;
  const phases = {};
  for (let rep = 0; rep < reps; rep++) {
    // RCC alone, without the validation pass of its standard errors (driftUncertainty.ts): the
    // strictest time to compare the defaults with.
    let t = clock();
    const hand = await estimateDriftFromLocs(sim.table, {
      stepFrames: 1000,
      windowFrames: 1000,
      binSizeNm: 20,
      shiftMaxNm: 5,
      corrWindow: 5,
      refine: false,
      validateUncertainty: false,
    });
    const handInterp = createDriftInterpolator([hand.drift], { smoothing: 10 });
    tHand = best(tHand, since(t));
    handErr = rmse(handInterp, sim.truth, dims);
    t = clock();
    await estimateDriftFromLocs(sim.table, { refine: false, validateUncertainty: false });
    tAlone = best(tAlone, since(t));
    const marks = [];
    t = clock();
    const def = await estimateDriftFromLocs(sim.table, {}, { onPhase: (p) => marks.push([p, clock()]) });
    marks.push(['spline', clock()]);
    const defInterp = createDriftInterpolator([def.drift], { smoothing: 'auto' });
    tDef = best(tDef, since(t));
    marks.push(['done', clock()]);
    for (let k = 0; k + 1 < marks.length; k++) if (marks[k][0] !== 'end') phases[marks[k][0]] = best(phases[marks[k][0]], since(marks[k][1], marks[k + 1][1]));
    defErr = rmse(defInterp, sim.truth, dims);
    summary = def.choices.summary;
  }
  const own = phases.rcc;
  console.log(
    `  ${name.padEnd(26)} defaults ${f(defErr)} nm in ${s(tDef)} (CPU ${tDef.cpu.toFixed(2)} s)` +
      ` | hand-set RCC ${f(handErr)} nm in ${s(tHand)} (CPU ${tHand.cpu.toFixed(2)} s)` +
      ` | RCC alone, auto ${s(tAlone)} (CPU ${tAlone.cpu.toFixed(2)} s)`,
  );
  if (!own) {
    // A build without the onPhase hook (before issue 10's timing work): the whole only.
    console.log(`  ${''.padEnd(26)} whole ÷ hand-set RCC ${ratio(tDef, tHand)} · ÷ RCC alone ${ratio(tDef, tAlone)}`);
    console.log(`  ${''.padEnd(26)} ${summary}`);
    continue;
  }
  console.log(
    `  ${''.padEnd(26)} phases: RCC ${s(own)} (CPU ${own.cpu.toFixed(2)}), fine ${phases.fine ? s(phases.fine) : '—'} (CPU ${phases.fine?.cpu.toFixed(2)}),` +
      ` validation ${phases.validation ? s(phases.validation) : 'none at the defaults'}, spline ${s(phases.spline)} (CPU ${phases.spline.cpu.toFixed(2)})`,
  );
  console.log(`  ${''.padEnd(26)} whole ÷ own RCC ${ratio(tDef, own)} · ÷ hand-set RCC ${ratio(tDef, tHand)} · ÷ RCC alone ${ratio(tDef, tAlone)}`);
  console.log(`  ${''.padEnd(26)} ${summary}`);
}
