// Issue 14: the fiducial and AIM methods on simulated acquisitions with known drift, measured in
// this run. Figures: per-frame RMSE per axis (offset removed) against the truth, and seconds
// (the estimator plus the 'auto' smoothing spline). Usage: SEED=7 node bench/methods.mjs [scenario,…]
// With PICASSO_SRC set, also writes the 1M and jump AIM cases as a Picasso .hdf5 + .yaml and times Picasso's own
// picasso/aim.py on it (bench/picasso_aim.py; needs a Picasso checkout in PICASSO_SRC and pandas).
import { simulateLocalizations } from '../dist/src/core/simulate/simulateLocalizations.js';
import { estimateDriftFromLocs } from '../dist/src/core/drift/estimateDriftFromLocs.js';
import { createDriftInterpolator } from '../dist/src/core/drift/driftInterpolator.js';
import { formatAxes as f, rmse } from './driftError.mjs';
import { readTable, writeTable } from '../dist/src/io/index.js';
import { writeDriftNpz } from '../dist/src/io/npz.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fast = [
  { amplitudeNm: 60, periodFrames: 4000 },
  { amplitudeNm: 40, periodFrames: 5000 },
];
const jumps = [
  { frame: 11000, xNm: 90, yNm: -95 },
  { frame: 21000, xNm: -120, yNm: 50 },
];
const scenarios = {
  '130k + 4 beads': { sim: { locs: 130000, frames: 30000, beads: 4 }, methods: ['fiducial', 'AIM'] },
  '130k + 3 dim beads (2000 ph)': { sim: { locs: 130000, frames: 30000, beads: 3, beadPhotons: 2000 }, methods: ['fiducial'] },
  '130k + 6 beads, fast + jumps': { sim: { locs: 130000, frames: 30000, beads: 6, oscillations: fast, jumps }, methods: ['fiducial'] },
  'dense 130k, 20 µm': { sim: { locs: 130000, frames: 30000 }, methods: ['AIM'] },
  '1M, 20 µm': { sim: { locs: 1000000, frames: 30000 }, methods: ['AIM'], picasso: true },
  'fast drift + 2 jumps': { sim: { locs: 130000, frames: 30000, oscillations: fast, jumps }, methods: ['AIM'], picasso: true },
  'sparse 12k / 30k frames': { sim: { locs: 12000, frames: 30000 }, methods: ['AIM'] },
  '3D, 9 µm, z drift 200 nm': { sim: { locs: 130000, frames: 30000, dim: 3, driftAmplitudeZNm: 200, fieldNm: 9000 }, methods: ['AIM'] },
};
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const pick = args[0] ? args[0].split(',') : Object.keys(scenarios);
const seed = Number(process.env.SEED ?? 7);
const picassoSrc = process.env.PICASSO_SRC;
if (process.argv.includes('--picasso-aim') && !picassoSrc)
  console.log('  (--picasso-aim needs PICASSO_SRC, a directory holding picasso/aim.py: Picasso not measured)');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

/** Runs of each side against Picasso (RUNS=…): the ratios are medians over runs, each pair timed back to back. */
const RUNS = Number(process.env.RUNS ?? 5);
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

/** Our AIM and Picasso's on the same Picasso .hdf5 + .yaml (100 nm pixels), timed in this run. */
async function againstPicasso(name, sim) {
  const dir = mkdtempSync(join(tmpdir(), 'ccdrift-aim-'));
  try {
    const path = join(dir, 'locs.hdf5');
    const table = {
      length: sim.table.length,
      columns: new Map([...sim.table.columns].filter(([k]) => ['x', 'y', 't', 'photons', 'bg'].includes(k))),
      metadata: {},
    };
    await writeTable(path, table, { pixelSizeNm: 100 });
    await writeDriftNpz(join(dir, 'truth.npz'), sim.truth);
    const back = await readTable(path);
    const runs = [];
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      const c0 = process.cpuUsage();
      const ours = await estimateDriftFromLocs(back, { method: 'AIM' });
      const err = rmse(createDriftInterpolator([ours.drift], { smoothing: 'auto' }), sim.truth, 2);
      const tOurs = (performance.now() - t) / 1000;
      const c1 = process.cpuUsage(c0);
      const cpuOurs = (c1.user + c1.system) / 1e6;
      const py = spawnSync(PYTHON, [new URL('./picasso_aim.py', import.meta.url).pathname, picassoSrc, path, join(dir, 'truth.npz')], { encoding: 'utf8' });
      const line = py.stdout.trim().split('\n').pop();
      if (py.status !== 0 || !line?.startsWith('{')) {
        console.log(`  ${name.padEnd(30)} Picasso AIM: not measured (${(py.stderr || py.stdout).trim().split('\n').pop()})`);
        return;
      }
      const p = JSON.parse(line);
      runs.push({ err, tOurs, cpuOurs, p, wall: tOurs / p.seconds, cpu: cpuOurs / p.cpu_seconds });
      console.log(
        `  ${name.padEnd(30)} run ${r + 1}/${RUNS}, same Picasso file: ccdrift AIM ${f(err)} nm in ${tOurs.toFixed(2)} s (CPU ${cpuOurs.toFixed(2)} s) | ` +
          `Picasso AIM ${f(p.rmse_nm)} nm in ${p.seconds.toFixed(1)} s (CPU ${p.cpu_seconds.toFixed(1)} s) | ratio wall ${(tOurs / p.seconds).toFixed(2)}×, CPU ${(cpuOurs / p.cpu_seconds).toFixed(2)}×`,
      );
    }
    const w = runs.map((r) => r.wall);
    const c = runs.map((r) => r.cpu);
    console.log(
      `  ${name.padEnd(30)} over ${RUNS} runs: ccdrift AIM median ${median(runs.map((r) => r.tOurs)).toFixed(2)} s (CPU ${median(runs.map((r) => r.cpuOurs)).toFixed(2)} s), ` +
        `Picasso AIM median ${median(runs.map((r) => r.p.seconds)).toFixed(1)} s (CPU ${median(runs.map((r) => r.p.cpu_seconds)).toFixed(1)} s) | ` +
        `ratio wall median ${median(w).toFixed(2)}× (${Math.min(...w).toFixed(2)}–${Math.max(...w).toFixed(2)}), CPU median ${median(c).toFixed(2)}× (${Math.min(...c).toFixed(2)}–${Math.max(...c).toFixed(2)})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`Fiducial and AIM methods (seed ${seed}), per-frame RMSE per axis after offset removal:`);
  for (const name of Object.keys(scenarios).filter((n) => pick.some((p) => n.startsWith(p)))) {
    const o = scenarios[name];
    const sim = simulateLocalizations({ ...o.sim, seed });
    const dims = o.sim.dim === 3 ? 3 : 2;
    for (const method of o.methods) {
      const warnings = [];
      const t = performance.now();
      const opts = method === 'AIM' ? { method, ...(o.aim ?? {}) } : { method };
      const res = await estimateDriftFromLocs(sim.table, opts, { progress: { warn: (m) => warnings.push(m) } });
      const interp = createDriftInterpolator([res.drift], { smoothing: 'auto' });
      const secs = (performance.now() - t) / 1000;
      console.log(`  ${name.padEnd(30)} ${method.padEnd(8)} ${f(rmse(interp, sim.truth, dims))} nm in ${secs.toFixed(1)} s`);
      console.log(`  ${''.padEnd(39)} ${res.choices.summary.slice(0, 400)}`);
      for (const w of warnings) console.log(`  ${''.padEnd(39)} warning: ${w.slice(0, 300)}`);
    }
    if (picassoSrc && o.picasso) await againstPicasso(name, sim);
  }
}
