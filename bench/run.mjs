// npm run bench: figures, not pass/fail. Each case runs in its own process (clean peak RSS).
// Peers are measured in this run where they can run here (endToEnd.mjs: Picasso's undrift,
// PyTables' write); a figure that could not be measured here is printed as "quoted" with its
// source, never as a measurement.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cores = availableParallelism();
const quick = process.argv.includes('--quick');

function runCase(c) {
  const out = execFileSync(process.execPath, ['--expose-gc', join(here, 'case.mjs'), JSON.stringify(c)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  return JSON.parse(out.trim().split('\n').pop());
}

const s = (ms) => (ms / 1000).toFixed(2).padStart(6);
function report(label, r, quoted) {
  const m = r.ms;
  const line =
    `${label.padEnd(34)} ${String(r.windows).padStart(3)} win ${String(r.pairs).padStart(4)} pairs  ` +
    `FFT ${r.fft.nx}×${r.fft.ny}×${r.fft.nz}  spectra ${s(m.spectra)} s  corr ${s(m.correlations)} s  ` +
    `RCC total ${s(m.rccTotal)} s  spline ${s(m.spline)} s  apply ${s(m.apply)} s  peak RSS ${r.peakRssMB.toFixed(0).padStart(5)} MB  ` +
    `(${r.storage.kind === 'points' ? 'from points' : `spectra in ${r.storage.kind}`}, ${r.storage.workers} workers)  RMSE ${r.rmseNm
      .slice(0, r.case.dim)
      .map((v) => v.toFixed(2))
      .join('/')} nm`;
  console.log(line);
  for (const [name, seconds, source] of quoted ?? []) {
    console.log(`${''.padEnd(34)} ${name}: ${seconds} s quoted from ${source} (not run here) → ${(m.rccTotal / 1000 / seconds).toFixed(3)}× that time`);
  }
}

console.log(`ccdrift benchmark — ${cores} cores, Node ${process.version}`);
console.log('Localizations, 2D, bin 20 nm, 30 000 frames, step = window = 1000 (30 windows), corr_window 5:');
const sizes = quick ? [1e5] : [1e5, 1e6, 5e6];
for (const locs of sizes) {
  const r = runCase({ locs, dim: 2, binsize: 20, step: 1000, workers: cores });
  report(`  ${locs.toExponential(0)} locs`, r);
}

console.log(`\nWorker scaling (${quick ? '1e5' : '1e6'} locs, 2D, FFT route):`);
const one = runCase({ locs: quick ? 1e5 : 1e6, dim: 2, binsize: 20, step: 1000, workers: 1, route: 'off' });
report('  1 worker (inline)', one);
const all = runCase({ locs: quick ? 1e5 : 1e6, dim: 2, binsize: 20, step: 1000, workers: cores, route: 'off' });
report(`  ${cores} workers`, all);
console.log(`  speed-up ${(one.ms.rccTotal / all.ms.rccTotal).toFixed(2)}× on ${cores} cores`);

console.log(`\nDisk cache for spectra (${quick ? '1e5' : '1e6'} locs, FFT route, memory budget 64 MB forces the cache):`);
report('  disk cache', runCase({ locs: quick ? 1e5 : 1e6, dim: 2, binsize: 20, step: 1000, workers: cores, memoryBudget: 64 * 2 ** 20, route: 'off' }));

console.log('\n3D, z binned at 20 nm: 1.3e5 locs, 9 µm field, z range 600 nm, 30 000 frames, step = window = 1000:');
const std3d = { locs: 1.3e5, dim: 3, binsize: 20, step: 1000, workers: cores, fieldNm: 9000, sim: { zRangeNm: 300 } };
const points3d = runCase(std3d);
report('  3D std (bin 20 nm)', points3d, [['original PYME plugin', 440, 'issue 11 (another machine, 3.2 GB)']]);
if (!quick) {
  const fft3d = runCase({ ...std3d, route: 'off' });
  report('  same, FFT route (pointsRoute off)', fft3d);
  console.log(
    `  points / FFT route: ${(points3d.ms.rccTotal / fft3d.ms.rccTotal).toFixed(3)}× the time, ${(points3d.peakRssMB / fft3d.peakRssMB).toFixed(3)}× the peak RSS`,
  );
}
report('  3D, 20 µm field, bin 30 nm', runCase({ locs: 1.3e5, dim: 3, binsize: 30, step: 1000, workers: cores }));

for (const extra of ['endToEnd.mjs', 'defaults.mjs', 'methods.mjs', 'hdf5.mjs', 'images.mjs', 'web.mjs']) {
  const p = join(here, extra);
  if (existsSync(p) && !quick) {
    console.log(`\n--- ${extra} ---`);
    execFileSync(process.execPath, ['--expose-gc', p], { stdio: 'inherit' });
  }
}
