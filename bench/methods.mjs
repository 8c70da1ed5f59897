// Issue 14: the fiducial and AIM methods on simulated acquisitions with known drift, beside the
// defaults (RCC + fine stage), measured in this run. Figures: per-frame RMSE per axis (offset
// removed) against the truth, and seconds. Usage: node bench/methods.mjs [scenario,…]
import { simulateLocalizations } from '../dist/src/core/simulate/simulateLocalizations.js';
import { estimateDriftAim } from '../dist/src/core/drift/estimateDriftAim.js';
import { createDriftInterpolator } from '../dist/src/core/drift/driftInterpolator.js';

const fast = [{ amplitudeNm: 60, periodFrames: 4000 }, { amplitudeNm: 40, periodFrames: 5000 }];
const scenarios = {
  'dense 130k, 20 µm': { sim: { locs: 130000, frames: 30000 } },
  '1M, 20 µm': { sim: { locs: 1000000, frames: 30000 } },
  'fast drift + 2 jumps': { sim: { locs: 130000, frames: 30000, oscillations: fast, jumps: [{ frame: 11000, xNm: 90, yNm: -95 }, { frame: 21000, xNm: -120, yNm: 50 }] } },
  'sparse 12k / 30k frames': { sim: { locs: 12000, frames: 30000 } },
  '3D, 9 µm, z drift 200 nm': { sim: { locs: 130000, frames: 30000, dim: 3, driftAmplitudeZNm: 200, fieldNm: 9000 } },
};
const pick = process.argv[2] ? process.argv[2].split(',') : Object.keys(scenarios);
const seed = Number(process.env.SEED ?? 7);

export function rmse(interp, truth, dims) {
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

if (import.meta.url === `file://${process.argv[1]}`) for (const name of Object.keys(scenarios).filter((n) => pick.some((p) => n.startsWith(p)))) {
  const o = scenarios[name];
  const sim = simulateLocalizations({ ...o.sim, seed });
  const dims = o.sim.dim === 3 ? 3 : 2;
  const c = sim.table.columns;
  let t = performance.now();
  const warnings = [];
  const aim = await estimateDriftAim({ x: c.get('x'), y: c.get('y'), z: dims === 3 ? c.get('z') : undefined, t: c.get('t') }, { progress: { warn: (m) => warnings.push(m) } });
  const interp = createDriftInterpolator([aim.drift], { smoothing: 'auto' });
  const tAim = (performance.now() - t) / 1000;
  const r1 = createDriftInterpolator([aim.round1], { smoothing: 'auto' });
  console.log(`  ${name.padEnd(26)} AIM ${f(rmse(interp, sim.truth, dims))} nm in ${tAim.toFixed(1)} s (round 1 alone ${f(rmse(r1, sim.truth, 2))})`);
  console.log(`  ${''.padEnd(26)} ${aim.summary}`);
  for (const w of warnings) console.log(`  ${''.padEnd(26)} warning: ${w}`);
}
