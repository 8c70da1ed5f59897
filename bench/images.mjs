// Image-stack pipeline throughput and peak memory: write a uint16 TIFF stack, measure its
// drift (read lazily → pre-filter → Image RCC), apply the drift and write the corrected stack.
// Numbers, not pass/fail. Build first: `npx tsc -p tsconfig.build.json`, then
//     node bench/images.mjs [frames] [size]        (default: 10000 512, i.e. 5 GB of uint16)
// Each phase runs in its own child process so its peak RSS (maxRSS) is its own; a bounded
// figure (independent of the number of frames) is the point.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(import.meta.url);
const dist = (p) => new URL(`../dist/src/${p}`, import.meta.url);

/** Lateral drift (nm) at frame t: a slow circle of 150 nm, so the truth is known. */
const driftAt = (t, frames) => [150 * Math.sin((2 * Math.PI * t) / frames), 150 * (1 - Math.cos((2 * Math.PI * t) / frames))];
const PIXEL_NM = 100;

/** A lazy synthetic camera-like stack: blobs on offset 100, content moved by −drift (whole pixels), cheap noise. */
function syntheticStack(frames, size) {
  const base = new Float32Array(size * size);
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
  for (let b = 0; b < 400; b++) {
    const cx = size * (0.1 + 0.8 * rand());
    const cy = size * (0.1 + 0.8 * rand());
    for (let y = Math.max(0, Math.floor(cy - 5)); y < Math.min(size, cy + 5); y++)
      for (let x = Math.max(0, Math.floor(cx - 5)); x < Math.min(size, cx + 5); x++) base[y * size + x] += 300 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 3);
  }
  return {
    width: size,
    height: size,
    depth: 1,
    frames,
    dtype: 'uint16',
    voxelSizeNm: [PIXEL_NM, PIXEL_NM, 100],
    metadata: { 'bench.synthetic': true },
    async readFrame(t) {
      const [dx, dy] = driftAt(t, frames).map((d) => Math.round(-d / PIXEL_NM));
      const out = new Uint16Array(size * size);
      let s = (t * 2654435761) >>> 0;
      for (let y = 0; y < size; y++) {
        const sy = y - dy;
        for (let x = 0; x < size; x++) {
          const sx = x - dx;
          const v = sx >= 0 && sx < size && sy >= 0 && sy < size ? base[sy * size + sx] : 0;
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          out[y * size + x] = 100 + v + (s >>> 28);
        }
      }
      return out;
    },
  };
}

async function phase(name, frames, size, dir) {
  const tiff = await import(dist('io/tiff.js'));
  const input = join(dir, 'input.tif');
  const t0 = performance.now();
  let info = '';
  if (name === 'write') {
    await tiff.writeTiffStack(input, syntheticStack(frames, size));
    info = `${(statSync(input).size / 2 ** 30).toFixed(2)} GiB`;
  } else if (name === 'rcc') {
    const { prefilterStack } = await import(dist('core/image/prefilterStack.js'));
    const { estimateDriftFromImages } = await import(dist('core/drift/estimateDriftFromImages.js'));
    let executor;
    try {
      const { createWorkerExecutor } = await import(dist('node/workerExecutor.js'));
      executor = createWorkerExecutor({ onStorage: (s) => (info += `spectra in ${s.kind} (${(s.bytes / 2 ** 20).toFixed(0)} MB, ${s.workers} workers) `) });
    } catch {
      info += 'inline executor (spectra in memory) ';
    }
    const stack = await tiff.tiffFormat.read(input, {});
    const pre = prefilterStack(stack, { medianFilterSize: 3, thresholdLower: 110, clipToLower: 110, thresholdUpper: 65535, clipToUpper: 0, tukeySize: 0.25 });
    const res = await estimateDriftFromImages(pre, { method: 'RCC', shiftMaxNm: 5, corrWindow: 5 }, { executor });
    let ss = 0;
    let mx = 0;
    let my = 0;
    for (let t = 0; t < frames; t++) {
      const [tx, ty] = driftAt(t, frames).map((d) => Math.round(d / PIXEL_NM) * PIXEL_NM);
      mx += res.drift.x[t] - tx;
      my += res.drift.y[t] - ty;
    }
    mx /= frames;
    my /= frames;
    for (let t = 0; t < frames; t++) {
      const [tx, ty] = driftAt(t, frames).map((d) => Math.round(d / PIXEL_NM) * PIXEL_NM);
      ss += (res.drift.x[t] - tx - mx) ** 2 + (res.drift.y[t] - ty - my) ** 2;
    }
    info += `RMSE ${Math.sqrt(ss / (2 * frames)).toFixed(2)} nm`;
  } else if (name === 'apply') {
    const { applyDriftToStack } = await import(dist('core/image/applyDriftToStack.js'));
    const { createDriftInterpolator } = await import(dist('core/drift/driftInterpolator.js'));
    const stack = await tiff.tiffFormat.read(input, {});
    const t = Float64Array.from({ length: frames }, (_, i) => i);
    const trace = { t, x: t.map((i) => driftAt(i, frames)[0]), y: t.map((i) => driftAt(i, frames)[1]), z: new Float64Array(frames) };
    const corrected = applyDriftToStack(stack, createDriftInterpolator([trace], { degree: 3, smoothing: 0 }), { paddingMultiplier: 1 });
    await tiff.writeTiffStack(join(dir, 'corrected.tif'), corrected);
    corrected.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  console.log(JSON.stringify({ name, seconds, peakRssMB, info }));
}

if (process.argv[2] === '--phase') {
  const [, , , name, frames, size, dir] = process.argv;
  await phase(name, Number(frames), Number(size), dir);
} else {
  const frames = Number(process.argv[2] ?? 10000);
  const size = Number(process.argv[3] ?? 512);
  const dir = mkdtempSync(join(process.env.BENCH_TMPDIR ?? tmpdir(), 'ccdrift-images-'));
  console.log(`image pipeline: ${frames} frames of ${size} × ${size} uint16 (${((frames * size * size * 2) / 2 ** 30).toFixed(2)} GiB) in ${dir}`);
  try {
    for (const name of ['write', 'rcc', 'apply']) {
      const out = execFileSync(process.execPath, [here, '--phase', name, String(frames), String(size), dir], { encoding: 'utf8', maxBuffer: 1 << 24 });
      const r = JSON.parse(out.trim().split('\n').pop());
      console.log(`${r.name.padEnd(6)} ${r.seconds.toFixed(1).padStart(8)} s   peak RSS ${r.peakRssMB.toFixed(0).padStart(6)} MB   ${r.info}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
