// npm run bench: figures, not pass/fail. Each case runs in its own process (clean peak RSS).
// Reference figures measured on this 2-core machine (from the issue): the original PYME
// plugin 23 s for 1e6 localizations and 440 s / 3.2 GB for its 3D case; Picasso's RCC 6.6 s
// for 1e6.
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
function report(label, r, reference) {
  const m = r.ms;
  const line =
    `${label.padEnd(34)} ${String(r.windows).padStart(3)} win ${String(r.pairs).padStart(4)} pairs  ` +
    `FFT ${r.fft.nx}×${r.fft.ny}×${r.fft.nz}  spectra ${s(m.spectra)} s  corr ${s(m.correlations)} s  ` +
    `RCC total ${s(m.rccTotal)} s  spline ${s(m.spline)} s  apply ${s(m.apply)} s  peak RSS ${r.peakRssMB.toFixed(0).padStart(5)} MB  ` +
    `(${r.storage.kind}, ${r.storage.workers} workers)  RMSE ${r.rmseNm.slice(0, r.case.dim).map((v) => v.toFixed(2)).join('/')} nm`;
  console.log(line);
  for (const [name, seconds] of reference ?? []) {
    console.log(`${''.padEnd(34)} vs ${name}: ${(seconds / (m.rccTotal / 1000)).toFixed(1)}× faster (${seconds} s there)`);
  }
}

console.log(`ccdrift benchmark — ${cores} cores, Node ${process.version}`);
console.log('Localizations, 2D, bin 20 nm, 30 000 frames, step = window = 1000 (30 windows), corr_window 5:');
const sizes = quick ? [1e5] : [1e5, 1e6, 5e6];
for (const locs of sizes) {
  const r = runCase({ locs, dim: 2, binsize: 20, step: 1000, workers: cores });
  report(`  ${locs.toExponential(0)} locs`, r, locs === 1e6 ? [['original PYME plugin', 23], ['Picasso RCC', 6.6]] : undefined);
}

console.log('\nWorker scaling (1e6 locs, 2D):');
const one = runCase({ locs: quick ? 1e5 : 1e6, dim: 2, binsize: 20, step: 1000, workers: 1 });
report('  1 worker (inline)', one);
const all = runCase({ locs: quick ? 1e5 : 1e6, dim: 2, binsize: 20, step: 1000, workers: cores });
report(`  ${cores} workers`, all);
console.log(`  speed-up ${(one.ms.rccTotal / all.ms.rccTotal).toFixed(2)}× on ${cores} cores`);

console.log('\nDisk cache for spectra (1e6 locs, memory budget 64 MB forces the cache):');
report('  disk cache', runCase({ locs: quick ? 1e5 : 1e6, dim: 2, binsize: 20, step: 1000, workers: cores, memoryBudget: 64 * 2 ** 20 }));

console.log('\n3D, z binned: 1.3e5 locs, 30 000 frames, step = window = 1000:');
report('  3D bin 30 nm', runCase({ locs: 1.3e5, dim: 3, binsize: 30, step: 1000, workers: cores }), [['original PYME plugin (3D case)', 440]]);

for (const extra of ['defaults.mjs', 'methods.mjs', 'hdf5.mjs', 'images.mjs']) {
  const p = join(here, extra);
  if (existsSync(p) && !quick) {
    console.log(`\n--- ${extra} ---`);
    execFileSync(process.execPath, ['--expose-gc', p], { stdio: 'inherit' });
  }
}
