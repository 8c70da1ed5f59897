// Issue 16: the browser app against the CLI on the same file, same machine, same run.
// Simulates a table (default 1 M localizations, 30 000 frames, 20 µm), times `ccdrift locs`
// (read, measure at the defaults, write the corrected CSV and the drift) and the app in
// headless Chromium from picking the file to "done" (read, measure, corrected CSV and drift in
// memory), and checks that both give the same drift. Needs `npm run build` and
// `npm run build:web`, and Chromium (/usr/bin/chromium or CCDRIFT_CHROMIUM).
// Usage: node bench/web.mjs [localizations] [frames]
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { decodeDriftNpz } from '../dist/src/io/driftNpzCodec.js';

const locs = Number(process.argv[2] ?? 1_000_000);
const frames = Number(process.argv[3] ?? 30_000);
const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist-web');
const chromiumPath = process.env.CCDRIFT_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(join(dist, 'index.html'))) throw new Error('no dist-web/: run npm run build:web first');
if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}`);

const dir = mkdtempSync(join(tmpdir(), 'ccdrift-bench-web-'));
const cli = (args) => {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'ccdrift.js'), ...args], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
};
try {
  cli(['simulate', '-o', 'big.csv', '--locs', String(locs), '--frames', String(frames), '--seed', '3', '-q']);
  let t = performance.now();
  cli(['locs', 'big.csv', '-o', 'cli.csv', '--drift-out', 'cli.npz', '-q']);
  const cliSeconds = (performance.now() - t) / 1000;

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
  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ccdrift-chromium-')), {
    executablePath: chromiumPath,
    headless: true,
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await context.newPage();
  await page.goto(url);
  const status = (re) =>
    page.waitForFunction((s) => new RegExp(s).test(document.querySelector('[data-testid=status]').textContent) || document.querySelector('[data-testid=status]').textContent.startsWith('error'), re, { timeout: 3_600_000, polling: 100 });
  t = performance.now();
  await page.getByTestId('file-input').setInputFiles(join(dir, 'big.csv'));
  await status('ready');
  const readSeconds = (performance.now() - t) / 1000;
  await page.getByTestId('run').click();
  await status('done');
  const appSeconds = (performance.now() - t) / 1000;
  const text = await page.getByTestId('status').textContent();
  if (!text.includes('done')) throw new Error(text);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-drift').click()]);
  await download.saveAs(join(dir, 'web.npz'));
  const a = decodeDriftNpz(readFileSync(join(dir, 'web.npz')), 'web.npz');
  const b = decodeDriftNpz(readFileSync(join(dir, 'cli.npz')), 'cli.npz');
  let diff = 0;
  for (const k of ['x', 'y', 'z']) for (let i = 0; i < b.t.length; i++) diff = Math.max(diff, Math.abs(a[k][i] - b[k][i]));
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  console.log(`${locs} localizations, ${frames} frames (${(statSync(join(dir, 'big.csv')).size / 2 ** 20).toFixed(0)} MiB CSV), ${cores} cores:`);
  console.log(`  ccdrift locs (CLI):   ${cliSeconds.toFixed(1)} s`);
  console.log(`  browser app:          ${appSeconds.toFixed(1)} s (reading ${readSeconds.toFixed(1)} s) = ${(appSeconds / cliSeconds).toFixed(2)}× the CLI`);
  console.log(`  same drift: max |difference| ${diff.toExponential(1)} nm over ${b.t.length} samples`);
  await context.close();
  server.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
