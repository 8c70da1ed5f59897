// Issue 16: the browser app against the CLI on the same file, same machine, same run.
// For each case it simulates a table (30 000 frames, 20 µm field), times `ccdrift locs` (read,
// measure at the defaults, write the corrected table and the drift) and the app in headless
// Chromium from picking the file to "done" (read, measure, corrected table and drift in memory),
// checks that both give the same drift, and prints the peak memory of each: the CLI's peak RSS,
// and the tab's — the peak resident set (VmHWM) of the renderer process that runs the page and
// its workers (JS heaps, WebAssembly memories and the file system of h5wasm all live there).
// The browser's own processes (which hold the downloads' blobs) are listed beside it.
// Cases: 1 M CSV, 5 M PYME .hdf and 5 M CSV; `node bench/web.mjs LOCS EXT` runs one
// (`node bench/web.mjs 100000 csv`). Needs `npm run build`, `npm run build:web` and Chromium
// (/usr/bin/chromium or CCDRIFT_CHROMIUM); skipped with a message without them.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { decodeDriftNpz } from '../dist/src/io/driftNpzCodec.js';

const FRAMES = 30_000;
const root = resolve(import.meta.dirname, '..');
const dist = process.env.CCDRIFT_DIST_WEB ?? join(root, 'dist-web');
const chromiumPath = process.env.CCDRIFT_CHROMIUM ?? '/usr/bin/chromium';
const cases = process.argv[2]
  ? [{ locs: Number(process.argv[2]), ext: process.argv[3] ?? 'csv' }]
  : [
      { locs: 1_000_000, ext: 'csv' },
      { locs: 5_000_000, ext: 'hdf' },
      { locs: 5_000_000, ext: 'csv' },
    ];

const skip = !existsSync(join(dist, 'sw.js')) ? 'no dist-web/ (npm run build:web)' : !existsSync(chromiumPath) ? `no Chromium at ${chromiumPath}` : '';
if (skip) {
  console.log(`browser app bench skipped: ${skip}`);
  process.exit(0);
}

const MiB = 2 ** 20;
const statusOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
};
const kB = (status, key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;

/** Run the CLI; its wall time and peak RSS (VmHWM, read just before it exits: sampled every 50 ms). */
function cli(dir, args) {
  return new Promise((res, rej) => {
    const t = performance.now();
    const child = spawn(process.execPath, [join(root, 'bin', 'ccdrift.js'), ...args], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let peak = 0;
    child.stderr.on('data', (d) => (stderr += d));
    // The CLI may re-run Node (see bin/ccdrift.js): the peak is over the child and its children.
    const sample = setInterval(() => {
      for (const pid of [child.pid, ...descendants(child.pid)]) peak = Math.max(peak, kB(statusOf(pid), 'VmHWM'));
    }, 50);
    child.on('close', (code) => {
      clearInterval(sample);
      if (code !== 0) rej(new Error(`ccdrift ${args.join(' ')}: ${stderr}`));
      else res({ seconds: (performance.now() - t) / 1000, peakBytes: peak });
    });
  });
}

/** Processes below `pid` (from /proc/PID/stat's ppid). */
function descendants(pid) {
  const children = new Map();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(Number(p));
  }
  const out = [];
  const walk = (q) => {
    for (const c of children.get(q) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Chromium's processes for a profile: the browser (its command line names the profile) and all below it. */
function chromiumProcesses(profile) {
  const browser = readdirSync('/proc').find((p) => {
    if (!/^\d+$/.test(p)) return false;
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      return cmd.includes(profile) && !cmd.includes('--type=');
    } catch {
      return false;
    }
  });
  if (!browser) return [];
  return [Number(browser), ...descendants(Number(browser))].map((pid) => {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      /* gone */
    }
    return { pid, type: /--type=([a-z-]+)/.exec(cmd)?.[1] ?? 'browser' };
  });
}

const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm' };
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = normalize(join(dist, path === '/' ? 'index.html' : path));
  if (!file.startsWith(dist) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
  createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;

const dir = mkdtempSync(join(tmpdir(), 'ccdrift-bench-web-'));
const mib = (b) => `${(b / MiB).toFixed(0)} MiB`;
try {
  for (const { locs, ext } of cases) {
    const input = `big${locs}.${ext}`;
    await cli(dir, ['simulate', '-o', input, '--locs', String(locs), '--frames', String(FRAMES), '--seed', '3', '-q']);
    const out = `cli${locs}.${ext}`;
    const c = await cli(dir, ['locs', input, '-o', out, '--drift-out', `cli${locs}${ext}.npz`, '-q', '--force']);

    // A fresh browser per case: VmHWM is the peak of this case alone.
    const profile = mkdtempSync(join(tmpdir(), 'ccdrift-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      acceptDownloads: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForSelector('[data-testid=offline]:not([data-state=loading])', { timeout: 120_000 });
      const status = (re) =>
        page.waitForFunction(
          (s) =>
            new RegExp(s).test(document.querySelector('[data-testid=status]').textContent) ||
            document.querySelector('[data-testid=status]').textContent.startsWith('error'),
          re,
          { timeout: 3_600_000, polling: 100 },
        );
      const t = performance.now();
      await page.getByTestId('file-input').setInputFiles(join(dir, input));
      await status('ready');
      const readSeconds = (performance.now() - t) / 1000;
      await page.getByTestId('run').click();
      await status('done');
      const appSeconds = (performance.now() - t) / 1000;
      const text = await page.getByTestId('status').textContent();
      if (!text.includes('done')) throw new Error(text);
      const procs = chromiumProcesses(profile).map((p) => ({ ...p, peak: kB(statusOf(p.pid), 'VmHWM') }));
      const renderers = procs.filter((p) => p.type === 'renderer');
      const tab = Math.max(...renderers.map((p) => p.peak));
      const others = procs.filter((p) => p.type !== 'renderer' || p.peak !== tab);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-drift').click()]);
      await download.saveAs(join(dir, 'web.npz'));
      const a = decodeDriftNpz(readFileSync(join(dir, 'web.npz')), 'web.npz');
      const b = decodeDriftNpz(readFileSync(join(dir, `cli${locs}${ext}.npz`)), 'cli.npz');
      let diff = 0;
      for (const k of ['x', 'y', 'z']) for (let i = 0; i < b.t.length; i++) diff = Math.max(diff, Math.abs(a[k][i] - b[k][i]));
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      console.log(`${locs} localizations, ${FRAMES} frames, ${ext === 'hdf' ? 'PYME .hdf' : 'CSV'} (${mib(statSync(join(dir, input)).size)}), ${cores} cores:`);
      console.log(`  ccdrift locs (CLI):   ${c.seconds.toFixed(1)} s, peak RSS ${mib(c.peakBytes)}`);
      console.log(`  browser app:          ${appSeconds.toFixed(1)} s (reading ${readSeconds.toFixed(1)} s) = ${(appSeconds / c.seconds).toFixed(2)}× the CLI`);
      console.log(
        `  tab's peak memory:    ${mib(tab)} (renderer VmHWM: page + workers); other Chromium processes ${others.map((p) => `${p.type} ${mib(p.peak)}`).join(', ')}`,
      );
      console.log(`  same drift: max |difference| ${diff.toExponential(1)} nm over ${b.t.length} samples`);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
    for (const f of [out, input]) rmSync(join(dir, f), { force: true });
  }
} finally {
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
