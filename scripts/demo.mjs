// npm run demo: simulate a drifting SMLM dataset, correct it with ccdrift exactly as a user
// would on the command line, and print the error against the known ground truth.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDriftNpz } from '../dist/src/io/npz.js';
import { createDriftInterpolator } from '../dist/src/core/drift/driftInterpolator.js';
import { writeDriftPlot } from '../dist/src/io/plotFile.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'out', 'demo');
mkdirSync(out, { recursive: true });
const cli = join(root, 'bin', 'ccdrift.js');
const rel = (p) => relative(process.cwd(), p) || '.';

function ccdrift(...args) {
  process.stdout.write(`\n$ ccdrift ${args.map((a) => (a.includes(root) ? rel(a) : a)).join(' ')}\n`);
  execFileSync(process.execPath, [cli, ...args], { stdio: 'inherit' });
}

const worms = join(out, 'worms.csv');
const truthFile = join(out, 'worms.truth.npz');
// The seed example's acquisition (130k localizations over 30 000 frames), corrected at the
// defaults: every parameter chosen from the data, then the fine stage.
ccdrift('simulate', '-o', worms, '--frames', '30000', '--locs', '130000', '--seed', '1');
const t0 = Date.now();
ccdrift(
  'locs',
  worms,
  '-o',
  join(out, 'worms_corrected.csv'),
  '--drift-out',
  join(out, 'drift.npz'),
  '--plot',
  join(out, 'drift.png'),
  '--per-frame',
  join(out, 'drift_per_frame.csv'),
  '--report',
  join(out, 'report.html'),
);
const seconds = (Date.now() - t0) / 1000;

// Error against the truth, at every frame the samples cover, after removing the constant
// offset (drift is only defined up to one).
const measured = await readDriftNpz(join(out, 'drift.npz'));
const truth = await readDriftNpz(truthFile);
const interp = createDriftInterpolator([measured], { smoothing: 'auto' });
const first = Math.ceil(measured.t[0]);
const last = Math.floor(measured.t[measured.t.length - 1]);
const frames = Float64Array.from({ length: last - first + 1 }, (_, i) => first + i);
const est = interp.evaluate(frames);
console.log('\nError against the ground truth (frames %d–%d, after offset removal):', first, last);
for (const axis of ['x', 'y']) {
  const diff = frames.map((f, i) => est[axis][i] - truth[axis][f]);
  const mean = diff.reduce((a, b) => a + b, 0) / diff.length;
  const rmse = Math.sqrt(diff.reduce((a, b) => a + (b - mean) ** 2, 0) / diff.length);
  const worst = Math.max(...diff.map((d) => Math.abs(d - mean)));
  const span = Math.max(...truth[axis]) - Math.min(...truth[axis]);
  console.log(`  ${axis}: RMSE ${rmse.toFixed(2)} nm, worst ${worst.toFixed(2)} nm (drift span ${span.toFixed(0)} nm)`);
}
const truthPlot = join(out, 'drift_vs_truth.png');
await writeDriftPlot(truthPlot, {
  sources: [{ label: 'measured (RCC)', trace: measured }],
  curve: { label: 'interpolated (s = 10)', trace: interp.evaluate(frames) },
  references: [{ label: 'ground truth (offset removed)', trace: alignTruth(truth, interp, frames) }],
  title: 'ccdrift demo: measured drift against the simulated truth',
});
console.log(`\nlocs command (read, RCC, spline, correct, write): ${seconds.toFixed(1)} s`);
console.log(`outputs in ${rel(out)}/: worms_corrected.csv, drift.npz, drift.png, drift_per_frame.csv, report.html, drift_vs_truth.png`);

function alignTruth(truthTrace, interpolator, fr) {
  const e = interpolator.evaluate(fr);
  const shifted = { t: fr, x: new Float64Array(fr.length), y: new Float64Array(fr.length), z: new Float64Array(fr.length) };
  for (const axis of ['x', 'y', 'z']) {
    let mean = 0;
    fr.forEach((f, i) => (mean += e[axis][i] - truthTrace[axis][f]));
    mean /= fr.length;
    fr.forEach((f, i) => (shifted[axis][i] = truthTrace[axis][f] + mean));
  }
  return shifted;
}
