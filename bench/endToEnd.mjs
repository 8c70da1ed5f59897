// End to end, file in → file out, with its phases, beside the peers run in this same process
// tree: Picasso's own `undrift` (RCC) on the same localizations in its .hdf5, and PyTables
// writing the very table ccdrift wrote (zlib 5 + shuffle, as PYME saves tables). A peer that
// cannot run here is reported as such, and any figure not measured here says "quoted".
//
// Usage: node bench/endToEnd.mjs [--rows 5e6] [--csv-rows 1e6] [--field 20000] [--dim 2]     (build first: npm run build;
// --rows 0 runs only the CSV part, --csv-rows 0 only the .hdf part)
// Each measured job runs in its own child process, so its peak RSS is its own.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const root = join(dirname(here), '..');
const dist = (p) => new URL(`../dist/src/${p}`, import.meta.url).href;

/** The original example recipe's RCC parameters (step = window = 1000, bin 20 nm, spline s = 10). */
const RCC = {
  stepFrames: 1000,
  windowFrames: 1000,
  binSizeNm: 20,
  shiftMaxNm: 5,
  corrWindow: 5,
  refine: false,
  // The recipe's flatten_z: true (one z bin; 3D tables get a 2D RCC). BENCH_FLATTEN_Z=0 bins z.
  flattenZ: process.env.BENCH_FLATTEN_Z !== '0',
  tukeySize: 0.25,
  method: 'RCC',
};
const FRAMES = 30000;
const PIXEL_NM = 100;
/** RCC above as `ccdrift locs` flags (no fine stage, no jump search, spline s = 10). */
const CLI_FLAGS = [
  ...(process.env.BENCH_FLATTEN_Z !== '0' ? ['--flatten-z'] : []),
  '--step',
  '1000',
  '--window',
  '1000',
  '--binsize',
  '20',
  '--shift-max',
  '5',
  '--corr-window',
  '5',
  '--tukey-size',
  '0.25',
  '--refine',
  'off',
  '--breaks',
  'none',
  '--smoothing',
  '10',
  '--degree',
  '3',
];
/** Figures from issue 11, measured on the issue author's machine: quoted, never as ours. */
const QUOTED = { pymePlugin1MCsvSeconds: 40, picasso5MSeconds: 31.8 };

async function child(args) {
  const [mode, ...rest] = args;
  const io = await import(dist('io/index.js'));
  if (mode === 'prepare') {
    const [rows, dir] = rest;
    const { simulateLocalizations } = await import(dist('core/simulate/simulateLocalizations.js'));
    // Other fields and 3D data (--field, --dim) vary the grid and the RCC's dimensions.
    const sim = simulateLocalizations({
      locs: Number(rows),
      frames: FRAMES,
      dim: Number(process.env.BENCH_DIM ?? 2),
      seed: 7,
      fieldNm: Number(process.env.BENCH_FIELD ?? 20000),
    });
    // PYME's dtypes: float32 columns, t as int32.
    const columns = new Map();
    for (const [k, v] of sim.table.columns) columns.set(k, k === 't' ? Int32Array.from(v) : Float32Array.from(v));
    const table = { length: sim.table.length, columns, metadata: { 'voxelsize.x': PIXEL_NM / 1000, 'voxelsize.y': PIXEL_NM / 1000, 'voxelsize.units': 'um' } };
    for (const ext of rest.slice(2)) await io.writeTable(join(dir, `locs${ext}`), table, { pixelSizeNm: PIXEL_NM });
    return {};
  }
  const [input, output] = rest;
  const { estimateDriftFromLocs } = await import(dist('core/drift/estimateDriftFromLocs.js'));
  const { createDriftInterpolator } = await import(dist('core/drift/driftInterpolator.js'));
  const { applyDriftToTable } = await import(dist('core/drift/applyDriftToTable.js'));
  const { createWorkerExecutor } = await import(dist('node/workerExecutor.js'));
  const ms = {};
  let started = 0;
  let stage;
  const progress = { start: (s) => ((stage = s), (started = performance.now())), stop: () => (ms[stage] = (ms[stage] ?? 0) + performance.now() - started) };
  // CPU seconds of the whole process (all threads) per phase: on a machine shared with other
  // jobs the wall time stretches, the CPU time much less.
  const cpu = {};
  const time = async (name, f) => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = await f();
    ms[name] = performance.now() - t0;
    const c = process.cpuUsage(c0);
    cpu[name] = (c.user + c.system) / 1000;
    return r;
  };
  const t0 = performance.now();
  // As `ccdrift locs` does: the correlation threads start while the file is read.
  const executor = createWorkerExecutor();
  executor.warm();
  const table = await time('read', () => io.readTable(input));
  const res = await time('rcc', () => estimateDriftFromLocs(table, RCC, { executor, progress }));
  const interp = await time('spline', () => createDriftInterpolator([res.drift], { degree: 3, smoothing: 10 }));
  const corrected = await time('apply', () => applyDriftToTable(table, interp));
  await time('write', () => io.writeTable(output, corrected, { inputs: [input] }));
  ms.total = performance.now() - t0;
  cpu.total = Object.values(cpu).reduce((a, b) => a + b, 0);
  return { ms, cpu, rows: table.length, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}

if (process.argv[2] === '--child') {
  const r = await child(process.argv.slice(3));
  process.stdout.write(`\n${JSON.stringify(r)}\n`);
  process.exit(0);
}

function runNode(args) {
  const out = execFileSync(process.execPath, [here, '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out.trim().split('\n').pop());
}

/** /usr/bin/python3 or python3 that imports all `modules`, or null. */
function python(...modules) {
  for (const exe of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(exe, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
      return exe;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Picasso's sources: PICASSO_SRC, or the *.py files of the fetched mirror extracted to `dir`. */
function picassoSource(dir) {
  if (process.env.PICASSO_SRC && existsSync(join(process.env.PICASSO_SRC, 'picasso', 'postprocess.py'))) return process.env.PICASSO_SRC;
  const mirror = process.env.PICASSO_MIRROR ?? '/work/.mirror/jungmannlab+picasso/repo';
  if (!existsSync(mirror)) return null;
  const git = (...a) => execFileSync('git', [`--git-dir=${mirror}`, ...a], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const commit = git('rev-parse', 'HEAD').trim();
  for (const f of git('ls-tree', '-r', '--name-only', 'HEAD', 'picasso').split('\n')) {
    if (!f.endsWith('.py') || f.includes('/gui/')) continue;
    mkdirSync(join(dir, dirname(f)), { recursive: true });
    writeFileSync(join(dir, f), git('show', `HEAD:${f}`));
  }
  mkdirSync(join(dir, 'picasso', 'gui'), { recursive: true });
  writeFileSync(join(dir, 'picasso', 'gui', '__init__.py'), '');
  return { dir, commit };
}

const PYTABLES_WRITE = `
import json, os, sys, time, tables
src, dst = sys.argv[1], sys.argv[2]
with tables.open_file(src) as f:
    data = f.root.Localizations.read()
    flt = f.root.Localizations.filters
    ours = f"{'shuffle + ' if flt.shuffle else ''}{flt.complib} {flt.complevel}, chunks of {f.root.Localizations.chunkshape[0]} rows"
t0, c0 = time.perf_counter(), time.process_time()
with tables.open_file(dst, 'w') as f:
    f.create_table('/', 'Localizations', data, filters=tables.Filters(complevel=5, complib='zlib', shuffle=True))
    chunks = int(f.root.Localizations.chunkshape[0])
print(json.dumps({'seconds': time.perf_counter() - t0, 'cpu': time.process_time() - c0, 'bytes': os.path.getsize(dst), 'rows': len(data), 'ours': ours, 'chunks': chunks}))
`;

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const rows = arg('--rows', 5e6);
// Passed to the child processes (prepare) through the environment.
process.env.BENCH_FIELD = String(arg('--field', 20000));
process.env.BENCH_DIM = String(arg('--dim', 2));
const csvRows = arg('--csv-rows', 1e6);
const dir = mkdtempSync(join(tmpdir(), 'ccdrift-bench-e2e-'));
const s = (v) => (v / 1000).toFixed(2);
const phases = (ms) => ['read', 'rcc', 'spline', 'apply', 'write'].map((k) => `${k} ${s(ms[k])}`).join(' + ') + ` s`;
const cpuLine = (r) => `    CPU time (all threads): ${s(r.cpu.total)} s = ${phases(r.cpu)}`;
try {
  // --rows 0: only the CSV part.
  if (rows > 0) {
    console.log(
      `${rows.toExponential(0)} localizations${process.env.BENCH_DIM === '3' ? (RCC.flattenZ ? ' (3D, flatten_z as the recipe)' : ' (3D, z binned by the RCC: BENCH_FLATTEN_Z=0)') : ''}, 30 000 frames, ` +
        `${Number(process.env.BENCH_FIELD) / 1000} µm field, step = window = 1000, bin 20 nm, corr_window 5, spline s = 10:`,
    );
    runNode(['prepare', String(rows), dir, '.hdf', '.hdf5']);
    const out = join(dir, 'out.hdf');
    const ours = runNode(['run', join(dir, 'locs.hdf'), out]);
    const inner = ['spectra', 'correlations']
      .filter((k) => ours.ms[k] !== undefined)
      .map((k) => `${k} ${s(ours.ms[k])}`)
      .join(', ');
    console.log(
      `  ccdrift .hdf → .hdf      ${s(ours.ms.total).padStart(6)} s  (${phases(ours.ms)}; RCC: ${inner})  peak RSS ${ours.peakRssMiB.toFixed(0)} MiB`,
    );
    console.log(cpuLine(ours));
    console.log(
      `  written .hdf: ${(statSync(out).size / 2 ** 20).toFixed(1)} MiB, input .hdf (ccdrift-written): ${(statSync(join(dir, 'locs.hdf')).size / 2 ** 20).toFixed(1)} MiB`,
    );
    // The same job as a user types it: process start to exit, module loading included.
    const cliOut = join(dir, 'cli_out.hdf');
    const cliStart = performance.now();
    execFileSync(process.execPath, [join(root, 'bin', 'ccdrift.js'), 'locs', join(dir, 'locs.hdf'), '-o', cliOut, ...CLI_FLAGS, '-q'], { stdio: 'ignore' });
    const cliSeconds = (performance.now() - cliStart) / 1000;
    console.log(`  ccdrift locs (the CLI, same parameters, process start to exit) ${cliSeconds.toFixed(2)} s`);

    const py = python('numpy', 'numba', 'scipy', 'pandas', 'h5py', 'yaml', 'matplotlib');
    const src = py ? picassoSource(join(dir, 'picasso-src')) : null;
    if (py && src) {
      const srcDir = typeof src === 'string' ? src : src.dir;
      try {
        const pyStart = performance.now();
        const o = execFileSync(py, [join(root, 'bench', 'peers', 'picasso_undrift.py'), srcDir, join(dir, 'locs.hdf5'), '1000'], {
          encoding: 'utf8',
          maxBuffer: 1 << 26,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const pySeconds = (performance.now() - pyStart) / 1000;
        const p = JSON.parse(o.trim().split('\n').pop());
        const total = p.read + p.undrift;
        console.log(
          `  Picasso undrift (RCC)    ${total.toFixed(2).padStart(6)} s  (read ${p.read.toFixed(2)} + undrift ${p.undrift.toFixed(2)} s, no write; Picasso ${src.commit ? src.commit.slice(0, 8) : srcDir}` +
            `${p.stubbed.length ? `, absent GUI/IO modules stubbed: ${p.stubbed.join(', ')}` : ''})`,
        );
        console.log(`    CPU time: ${(p.cpu_read + p.cpu_undrift).toFixed(2)} s = read ${p.cpu_read.toFixed(2)} + undrift ${p.cpu_undrift.toFixed(2)} s`);
        console.log(
          `  ccdrift / Picasso: ${(ours.ms.total / 1000 / total).toFixed(2)}× the time, ${(ours.cpu.total / 1000 / (p.cpu_read + p.cpu_undrift)).toFixed(2)}× the CPU time` +
            ` (measured in this run; ccdrift's includes its write)`,
        );
        console.log(
          `  process start to exit: ccdrift locs ${cliSeconds.toFixed(2)} s, Picasso's script ${pySeconds.toFixed(2)} s (its imports included, no write): ${(cliSeconds / pySeconds).toFixed(2)}×`,
        );
      } catch (err) {
        console.log(
          `  Picasso undrift could not run here (${String(err.stderr || err.message)
            .trim()
            .split('\n')
            .pop()}); quoted from issue 11: ${QUOTED.picasso5MSeconds} s for 5 M rows on another machine`,
        );
      }
    } else {
      console.log(
        `  Picasso not available (needs python3 with numpy, numba, scipy, pandas, h5py, yaml, matplotlib and its sources); quoted from issue 11: ${QUOTED.picasso5MSeconds} s for 5 M rows`,
      );
    }

    const pyt = python('tables');
    if (pyt) {
      const o = JSON.parse(execFileSync(pyt, ['-c', PYTABLES_WRITE, out, join(dir, 'pytables.hdf')], { encoding: 'utf8' }).trim());
      console.log(
        `  ccdrift's .hdf as PyTables sees it: ${o.ours}\n` +
          `  PyTables writes the same table (zlib 5 + shuffle, chunks of ${o.chunks} rows): ${o.seconds.toFixed(2)} s (CPU ${o.cpu.toFixed(2)} s), ${(o.bytes / 2 ** 20).toFixed(1)} MiB` +
          ` | ccdrift's write ${(ours.ms.write / 1000 / o.seconds).toFixed(2)}× the time, ${(ours.cpu.write / 1000 / o.cpu).toFixed(2)}× the CPU time, ${(statSync(out).size / o.bytes).toFixed(2)}× the size`,
      );
    } else console.log('  PyTables not available (python3-tables): no write comparison');
  }

  if (csvRows > 0) {
    console.log(`\n${csvRows.toExponential(0)} localizations, CSV → CSV (same parameters):`);
    runNode(['prepare', String(csvRows), dir, '.csv']);
    const csv = runNode(['run', join(dir, 'locs.csv'), join(dir, 'out.csv')]);
    console.log(`  ccdrift .csv → .csv      ${s(csv.ms.total).padStart(6)} s  (${phases(csv.ms)})  peak RSS ${csv.peakRssMiB.toFixed(0)} MiB`);
    console.log(cpuLine(csv));
    console.log(
      `  original PYME plugin: ${QUOTED.pymePlugin1MCsvSeconds} s quoted from issue 11 (needs PYME, not run here; another machine) → ` +
        `${(csv.ms.total / 1000 / QUOTED.pymePlugin1MCsvSeconds).toFixed(2)}× against the quoted figure`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
