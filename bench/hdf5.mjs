// HDF5 read/write throughput and peak memory for PYME (.hdf) and Picasso (.hdf5) tables.
// Numbers, not pass/fail. Build first: `npx tsc -p tsconfig.build.json`, then
//     node bench/hdf5.mjs [rows ...]          (default: 1e6 1e7)
// Every phase runs in its own child process so its peak RSS (maxRSS) is its own.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const dist = new URL('../dist/src/io/hdf5/index.js', import.meta.url);

/** A synthetic localization table: 8 columns, 32 bytes per row, PYME's usual dtypes. */
function makeTable(n) {
  const columns = new Map();
  let seed = 12345;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  const f32 = () => new Float32Array(n);
  const x = f32(),
    y = f32(),
    z = f32(),
    A = f32(),
    sig = f32(),
    ex = f32(),
    ey = f32();
  const t = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rand() * 40000;
    y[i] = rand() * 40000;
    z[i] = (rand() - 0.5) * 600;
    t[i] = Math.floor((i / n) * 100000);
    A[i] = 100 + rand() * 2000;
    sig[i] = 90 + rand() * 100;
    ex[i] = 2 + rand() * 20;
    ey[i] = 2 + rand() * 20;
  }
  for (const [k, v] of Object.entries({ x, y, z, t, A, sig, error_x: ex, error_y: ey })) columns.set(k, v);
  return { length: n, columns, metadata: { 'voxelsize.x': 0.1, 'voxelsize.y': 0.1, 'voxelsize.units': 'um' } };
}

async function phase(name, n, file) {
  const io = await import(dist);
  const table = name.startsWith('write') ? makeTable(n) : null;
  const t0 = performance.now();
  let rows;
  if (name === 'write-pyme') (await io.writePymeTable([file], table, {}, file), (rows = n));
  else if (name === 'read-pyme') rows = (await io.readPymeTable(file)).length;
  else if (name === 'write-picasso') (await io.writePicasso([file, file.replace(/\.hdf5$/, '.yaml')], table, { pixelSizeNm: 100 }, file), (rows = n));
  else if (name === 'read-picasso') rows = (await io.readPicasso(file)).length;
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ seconds, rows, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

if (process.argv[2] === '--phase') {
  await phase(process.argv[3], Number(process.argv[4]), process.argv[5]);
} else {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((v) => v > 0);
  const dir = mkdtempSync(join(tmpdir(), 'ccdrift-bench-hdf5-'));
  try {
    console.log('phase            rows        time (s)  rows/s (M)  peak RSS (MiB)  file (MiB)');
    for (const n of sizes.length ? sizes : [1e6, 1e7]) {
      const files = { pyme: join(dir, `locs_${n}.hdf`), picasso: join(dir, `locs_${n}.hdf5`) };
      for (const name of ['write-pyme', 'read-pyme', 'write-picasso', 'read-picasso']) {
        const file = name.endsWith('pyme') ? files.pyme : files.picasso;
        const out = execFileSync(process.execPath, [here, '--phase', name, String(n), file], { encoding: 'utf8', maxBuffer: 1 << 20 });
        const r = JSON.parse(out);
        console.log(
          `${name.padEnd(16)} ${String(n).padEnd(11)} ${r.seconds.toFixed(2).padStart(8)}  ${(n / r.seconds / 1e6).toFixed(2).padStart(10)}  ` +
            `${r.maxRssMiB.toFixed(0).padStart(14)}  ${(statSync(file).size / 2 ** 20).toFixed(1).padStart(10)}`,
        );
      }
    }
    console.log('(write phases include building the table in memory: 32 bytes/row = 305 MiB at 1e7 rows)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
