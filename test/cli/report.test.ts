/**
 * Issue 15: drift_sd through .npz (ours and numpy's reader), the per-frame CSV's sd columns, and
 * `--report report.html` — one valid, self-contained HTML file: images inline, no external URL,
 * written only when asked and refused before any work when its path is wrong.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { simulateLocalizations } from '../../src/core/simulate/index.js';
import { decodeDriftNpz, encodeDriftNpz, readDriftNpz } from '../../src/io/npz.js';
import { buildReportHtml, base64 } from '../../src/report/buildReport.js';
import { encodeGreyPng } from '../../src/report/pngEncode.js';
import { fourierRingCorrelation } from '../../src/core/quality/frc.js';
import { createRandom } from '../../src/core/simulate/random.js';
import { runCli } from '../helpers/cli.js';
import { findPython, runPython } from '../helpers/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'ccdrift-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const python = findPython('numpy');

/** Every way an HTML page can make the browser fetch something. */
const EXTERNAL_REFERENCE =
  /(?:src|href|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:https?:|\/\/|ftp:|file:)|url\(\s*["']?\s*(?:https?:|\/\/)|@import|<link\b|<script\b[^>]*\bsrc=|<iframe|<object|<embed/i;

/** Tags that must be balanced for the page to be well-formed (the void ones excluded). */
function checkWellFormed(html: string): void {
  expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  const stack: string[] = [];
  const voids = new Set(['meta', 'img', 'br', 'hr', 'input', 'link', 'path', 'rect', 'line', 'circle']);
  const body = html.replace(/<!DOCTYPE[^>]*>/, '').replace(/<style>[\s\S]*?<\/style>/, '');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = m;
    const tag = name.toLowerCase();
    if (selfClose || (voids.has(tag) && !close)) continue;
    if (close) {
      expect(stack.pop(), `closing </${tag}>`).toBe(tag);
    } else stack.push(tag);
  }
  expect(stack).toEqual([]);
}

describe('drift_sd in drift.npz', () => {
  it('round-trips through our codec, keeps tIndex/drift for the original loader, and marks fine-stage files', () => {
    const n = 7;
    const trace = {
      t: Float64Array.from({ length: n }, (_, i) => 100 * i + 50),
      x: Float64Array.from({ length: n }, (_, i) => i * 1.5),
      y: Float64Array.from({ length: n }, (_, i) => -i),
      z: new Float64Array(n),
      sd: { x: new Float64Array(n).fill(0.7), y: Float64Array.from({ length: n }, (_, i) => 0.5 + i / 10), z: new Float64Array(n) },
      refined: true,
    };
    const back = decodeDriftNpz(encodeDriftNpz(trace), 'mem.npz');
    expect(Array.from(back.sd!.y)).toEqual(Array.from(trace.sd.y));
    expect(Array.from(back.sd!.x)).toEqual(Array.from(trace.sd.x));
    expect(back.refined).toBe(true);
    expect(Array.from(back.x)).toEqual(Array.from(trace.x));
    const plain = decodeDriftNpz(encodeDriftNpz({ ...trace, refined: undefined }), 'mem.npz');
    expect(plain.refined).toBeUndefined();
  });

  it.skipIf(!python)('is read by numpy as an (n, 3) float64 array beside tIndex and drift', () => {
    const path = join(dir, 'sd.npz');
    const n = 4;
    const sd = { x: Float64Array.of(1, 2, 3, 4), y: Float64Array.of(5, 6, 7, 8), z: new Float64Array(n) };
    writeFileSync(path, encodeDriftNpz({ t: Float64Array.of(0, 1, 2, 3), x: new Float64Array(n), y: new Float64Array(n), z: new Float64Array(n), sd }));
    const out = JSON.parse(
      runPython(
        python!,
        'import sys, json, numpy as np\nd = np.load(sys.argv[1], allow_pickle=False)\n' +
          'print(json.dumps({"keys": sorted(d.files), "shape": list(d["drift_sd"].shape), "dtype": str(d["drift_sd"].dtype), "sd": d["drift_sd"].ravel().tolist(), "drift": list(d["drift"].shape)}))',
        [path],
      ),
    ) as { keys: string[]; shape: number[]; dtype: string; sd: number[]; drift: number[] };
    expect(out.keys).toEqual(['drift', 'drift_sd', 'tIndex']);
    expect(out.shape).toEqual([4, 3]);
    expect(out.dtype).toBe('float64');
    expect(out.sd).toEqual([1, 5, 0, 2, 6, 0, 3, 7, 0, 4, 8, 0]);
    expect(out.drift).toEqual([4, 3]);
  });
});

describe('report pieces', () => {
  it('a PNG with the right signature, size and chunks', () => {
    const png = encodeGreyPng(
      Uint8Array.from({ length: 12 }, (_, i) => i * 20),
      4,
      3,
    );
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const view = new DataView(png.buffer, png.byteOffset);
    expect(view.getUint32(16)).toBe(4);
    expect(view.getUint32(20)).toBe(3);
    expect(Buffer.from(png).includes(Buffer.from('IEND'))).toBe(true);
  });

  it('base64 as Node encodes it', () => {
    for (const len of [0, 1, 2, 3, 10, 255]) {
      const bytes = Uint8Array.from({ length: len }, (_, i) => (i * 37) & 255);
      expect(base64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
    }
  });

  it('escapes text from the data (file names, warnings)', () => {
    const html = buildReportHtml({ title: 'a<b>&"c"', command: 'x', input: [['file', '<script>']], parameters: [], warnings: ['<img src=x>'], footer: '' });
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img src=x>');
    expect(html).toContain('&lt;script&gt;');
    checkWellFormed(html);
  });

  it('FRC: identical halves correlate to the end, independent noise falls below 1/7 at once', () => {
    const n = 64;
    const rng = createRandom(9);
    const a = Float64Array.from({ length: n * n }, () => rng.normal());
    const b = Float64Array.from({ length: n * n }, () => rng.normal());
    expect(fourierRingCorrelation(a, a, n, 10).resolutionNm).toBeNull();
    const noise = fourierRingCorrelation(a, b, n, 10);
    expect(noise.resolutionNm).toBeGreaterThan((n * 10) / 4);
  });
});

describe('ccdrift locs --report', () => {
  const sim = simulateLocalizations({ locs: 12_000, frames: 3000, fieldNm: 8000, seed: 31 });
  const input = join(dir, 'cell.csv');
  const lines = ['x,y,t,error_x,error_y'];
  const c = sim.table.columns;
  for (let i = 0; i < sim.table.length; i++)
    lines.push(`${c.get('x')![i]},${c.get('y')![i]},${c.get('t')![i]},${c.get('error_x')![i]},${c.get('error_y')![i]}`);
  writeFileSync(input, lines.join('\n') + '\n');

  it('writes a self-contained, well-formed report with inline images, and drift_sd and sd columns', async () => {
    const r = runCli(
      [
        'locs',
        input,
        '-o',
        join(dir, 'out.csv'),
        '--drift-out',
        join(dir, 'drift.npz'),
        '--per-frame',
        join(dir, 'pf.csv'),
        '--report',
        join(dir, 'report.html'),
      ],
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    checkWellFormed(html);
    expect(html).not.toMatch(EXTERNAL_REFERENCE);
    // Plots inline as SVG, renders as PNG data URIs that decode to PNGs.
    expect((html.match(/<svg\b/g) ?? []).length).toBeGreaterThanOrEqual(3);
    const pngs = [...html.matchAll(/src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/g)];
    expect(pngs.length).toBe(2);
    for (const [, b64] of pngs) expect(Buffer.from(b64, 'base64').subarray(1, 4).toString()).toBe('PNG');
    for (const section of [
      'Input',
      'Parameters',
      'Warnings',
      'Drift',
      'Uncertainty',
      'Pairs and residuals',
      'Time windows',
      'Before and after',
      'Fourier ring correlation',
    ]) {
      expect(html).toContain(`>${section}</h`);
    }
    expect(html).toContain('cell.csv');
    expect(html).toContain('correction added (nm)');
    expect(html).toMatch(/FRC resolution \(1\/7 threshold\): before [^,]+, after/);
    // drift.npz carries drift_sd for the fine-stage samples; the per-frame CSV the propagated sd.
    const drift = await readDriftNpz(join(dir, 'drift.npz'));
    expect(drift.sd).toBeDefined();
    expect(drift.refined).toBe(true);
    expect(drift.sd!.x.every((v) => v > 0 && v < 20)).toBe(true);
    const pf = readFileSync(join(dir, 'pf.csv'), 'utf8').split('\n');
    expect(pf[0]).toBe('t,x,y,z,sd_x,sd_y,sd_z');
    const row = pf[1].split(',').map(Number);
    expect(row).toHaveLength(7);
    expect(row[4]).toBeGreaterThan(0);
  }, 180_000);

  it('refuses a report path that is not .html, or is the input, before reading the data', () => {
    const bad = runCli(['locs', input, '-o', join(dir, 'o2.csv'), '--report', join(dir, 'report.txt')], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--report');
    expect(existsSync(join(dir, 'o2.csv'))).toBe(false);
    const same = runCli(['locs', input, '-o', join(dir, 'o3.csv'), '--report', input], dir);
    expect(same.code).toBe(2);
    expect(same.stderr).toContain('input');
  });
});
