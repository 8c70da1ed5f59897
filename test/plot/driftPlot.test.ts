import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzlibSync } from 'fflate';
import { Resvg } from '@resvg/resvg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, UsageError } from '../../src/core/errors.js';
import type { DriftTrace } from '../../src/core/types.js';
import { findPlotFontDir, PNG_SCALE, rasterizePlotSvg, writeDriftPlot } from '../../src/io/plotFile.js';
import { renderDriftPlotSvg, type DriftPlotData } from '../../src/plot/driftPlot.js';
import { buildDriftPlotSpec, decimationIndices, DRIFT_AXIS_TITLE, MAX_PLOTTED_SAMPLES } from '../../src/plot/driftPlotSpec.js';

/** Vega writes point positions rounded to 3 decimals. */
const PIXEL_TOLERANCE_PX = 0.002;
/** Share of non-white pixels below which a PNG counts as blank. */
const MIN_INK_FRACTION = 0.01;

const FRAMES = 5000;
const SAMPLES = 30;

/** A synthetic drift in nm: slow sines on each axis, z optional. */
function sineDrift(t: number, withZ: boolean): [number, number, number] {
  return [60 * Math.sin(t / 900), 35 * (1 - Math.cos(t / 1400)), withZ ? 20 * Math.sin(t / 700) : 0];
}

function makeTrace(count: number, withZ: boolean, offsetNm = 0, noiseNm = 0): DriftTrace {
  const trace = {
    t: new Float64Array(count),
    x: new Float64Array(count),
    y: new Float64Array(count),
    z: new Float64Array(count),
  };
  for (let i = 0; i < count; i++) {
    const t = (i * FRAMES) / (count - 1);
    const [x, y, z] = sineDrift(t, withZ);
    // Deterministic "noise" so the measured points sit off the curve.
    const wiggle = noiseNm * Math.sin(i * 2.3);
    trace.t[i] = t;
    trace.x[i] = x + offsetNm + wiggle;
    trace.y[i] = y + offsetNm - wiggle;
    trace.z[i] = withZ ? z + wiggle : 0;
  }
  return trace;
}

function plotData(withZ: boolean, extra: Partial<DriftPlotData> = {}): DriftPlotData {
  return {
    sources: [{ label: 'RCC windows', trace: makeTrace(SAMPLES, withZ, 0, 2) }],
    curve: { label: 'Interpolated drift', trace: makeTrace(FRAMES + 1, withZ) },
    references: [{ label: 'Ground truth', trace: makeTrace(101, withZ, 3) }],
    ...extra,
  };
}

/** Texts of all `<text>` elements, in document order. */
function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

/** Point positions (translate x, y) of the measured-sample marks, one array per panel. */
function pointPositionsByPanel(svg: string): [number, number][][] {
  const groups = [...svg.matchAll(/<g class="mark-symbol role-mark child_layer_2_marks"[^>]*>(.*?)<\/g>/g)];
  return groups.map((g) =>
    [...g[1].matchAll(/<path[^>]*transform="translate\(([-\d.e]+),([-\d.e]+)\)"/g)].map((m) => [Number(m[1]), Number(m[2])] as [number, number]),
  );
}

function svgSize(svg: string): { width: number; height: number } {
  const m = /^<svg[^>]*\swidth="(\d+)"\s+height="(\d+)"/.exec(svg);
  if (!m) throw new Error('no width/height on the <svg> element');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Minimal PNG decoder for 8-bit RGB/RGBA non-interlaced images (what resvg writes). */
function decodePng(bytes: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  while (offset < bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = view.getUint32(offset + 8);
      height = view.getUint32(offset + 12);
      const [bitDepth, colourType, , , interlace] = body.subarray(8, 13);
      expect({ bitDepth, interlace }).toEqual({ bitDepth: 8, interlace: 0 });
      channels = colourType === 6 ? 4 : colourType === 2 ? 3 : 0;
      expect(channels, `PNG colour type ${colourType}`).toBeGreaterThan(0);
    } else if (type === 'IDAT') {
      idat.push(body);
    }
    offset += 12 + length;
  }
  const joined = new Uint8Array(idat.reduce((n, c) => n + c.length, 0));
  idat.reduce((at, c) => (joined.set(c, at), at + c.length), 0);
  const raw = unzlibSync(joined);
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? pixels[y * stride + i - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + i] : 0;
      const c = i >= channels && y > 0 ? pixels[(y - 1) * stride + i - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = a;
      else if (filter === 2) predictor = b;
      else if (filter === 3) predictor = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      pixels[y * stride + i] = (line[i] + predictor) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let k = 0; k < 3; k++) rgba[p * 4 + k] = pixels[p * channels + k];
    rgba[p * 4 + 3] = channels === 4 ? pixels[p * channels + 3] : 255;
  }
  return { width, height, rgba };
}

function inkStats(rgba: Uint8Array): { inkFraction: number; colours: Set<number> } {
  let ink = 0;
  const colours = new Set<number>();
  for (let p = 0; p < rgba.length; p += 4) {
    const key = (rgba[p] << 16) | (rgba[p + 1] << 8) | rgba[p + 2];
    colours.add(key);
    if (key !== 0xffffff) ink++;
  }
  return { inkFraction: ink / (rgba.length / 4), colours };
}

function hasColourNear(rgba: Uint8Array, hex: string, tolerance = 8): boolean {
  const target = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  for (let p = 0; p < rgba.length; p += 4) {
    if (target.every((v, k) => Math.abs(rgba[p + k] - v) <= tolerance)) return true;
  }
  return false;
}

describe('drift plot SVG', () => {
  it('draws one panel per axis for 2D data (x, y) with titles and legend', async () => {
    const svg = await renderDriftPlotSvg(plotData(false));
    const texts = svgTexts(svg);
    expect(texts.filter((t) => t === DRIFT_AXIS_TITLE)).toHaveLength(2);
    expect(texts.filter((t) => t === 'Time (frame)')).toHaveLength(1); // shared time axis
    expect(texts).toContain('x');
    expect(texts).toContain('y');
    expect(texts).not.toContain('z');
    for (const label of ['RCC windows', 'Interpolated drift', 'Ground truth']) expect(texts).toContain(label);
    expect(pointPositionsByPanel(svg).map((p) => p.length)).toEqual([SAMPLES, SAMPLES]);
    // Legend symbols match the marks: a dot for the source, a line for the curve, a dashed line for the reference.
    const symbols = [...svg.matchAll(/<g class="mark-symbol role-legend-symbol"[^>]*><path ([^>]*)\/>/g)].map((m) => m[1]);
    expect(symbols).toHaveLength(3);
    expect(symbols[0]).toMatch(/d="M[\d.]+,0A/); // circle (arcs)
    expect(symbols[1]).toMatch(/d="M-[\d.]+,0L[\d.]+,0"/);
    expect(symbols[1]).not.toContain('stroke-dasharray="7,4"');
    expect(symbols[2]).toMatch(/d="M-[\d.]+,0L[\d.]+,0"/);
    expect(symbols[2]).toContain('stroke-dasharray="7,4"');
  });

  it('adds a z panel when any trace has non-zero z, and honours an explicit axes list', async () => {
    const svg3 = await renderDriftPlotSvg(plotData(true));
    const texts3 = svgTexts(svg3);
    expect(texts3.filter((t) => t === DRIFT_AXIS_TITLE)).toHaveLength(3);
    const headers = texts3.filter((t) => t === 'x' || t === 'y' || t === 'z');
    expect(headers).toEqual(['x', 'y', 'z']);

    const onlyZ = await renderDriftPlotSvg({ ...plotData(true), axes: ['z'] });
    expect(svgTexts(onlyZ).filter((t) => t === DRIFT_AXIS_TITLE)).toHaveLength(1);
    expect(svgTexts(onlyZ)).toContain('z');
    expect(svgTexts(onlyZ)).not.toContain('x');
  });

  it('places each measured sample where its time and drift say (linear maps, drift up)', async () => {
    const data = plotData(true, { references: [] });
    const svg = await renderDriftPlotSvg(data);
    const panels = pointPositionsByPanel(svg);
    const trace = data.sources[0].trace;
    (['x', 'y', 'z'] as const).forEach((axis, panel) => {
      const pts = panels[panel];
      // Fit pixel = a + b·value from the extreme samples, then check every sample on that line.
      const check = (values: Float64Array, pixels: number[], sign: 1 | -1) => {
        let lo = 0;
        let hi = 0;
        values.forEach((v, i) => {
          if (v < values[lo]) lo = i;
          if (v > values[hi]) hi = i;
        });
        const slope = (pixels[hi] - pixels[lo]) / (values[hi] - values[lo]);
        expect(Math.sign(slope), `${axis}: orientation`).toBe(sign);
        values.forEach((v, i) => {
          const predicted = pixels[lo] + slope * (v - values[lo]);
          expect(Math.abs(pixels[i] - predicted), `${axis} sample ${i}`).toBeLessThanOrEqual(PIXEL_TOLERANCE_PX);
        });
      };
      check(
        trace.t,
        pts.map((p) => p[0]),
        1,
      );
      check(
        trace[axis],
        pts.map((p) => p[1]),
        -1,
      );
    });
  });

  it('uses only the shipped font, dashes references, and is deterministic', async () => {
    const data = plotData(false);
    const first = await renderDriftPlotSvg(data);
    await renderDriftPlotSvg(plotData(true)); // a different plot in between must not shift ids or state
    const second = await renderDriftPlotSvg(data);
    expect(second).toBe(first);
    const families = new Set([...first.matchAll(/font-family="([^"]*)"/g)].map((m) => m[1]));
    expect([...families]).toEqual(['DejaVu Sans']);
    expect(first).not.toMatch(/\sid="/); // no generated ids (clip paths, gradients)
    expect(first).toContain('stroke-dasharray="7,4"');
    const noReference = await renderDriftPlotSvg(plotData(false, { references: [] }));
    expect(noReference).not.toContain('stroke-dasharray="7,4"');
  });

  it('shows a title when given and leaves NaN samples out', async () => {
    const sources = [{ label: 'measured', trace: makeTrace(SAMPLES, false) }];
    sources[0].trace.x[5] = Number.NaN;
    const svg = await renderDriftPlotSvg({ sources, title: 'Drift of cell 3' });
    expect(svgTexts(svg)).toContain('Drift of cell 3');
    expect(pointPositionsByPanel(svg).map((p) => p.length)).toEqual([SAMPLES - 1, SAMPLES]);
  });
});

describe('drift plot decimation', () => {
  it('keeps every index up to the limit', () => {
    expect(decimationIndices(5, 10)).toEqual([0, 1, 2, 3, 4]);
    expect(decimationIndices(0)).toEqual([]);
  });

  it('keeps both ends and spaces the rest evenly', () => {
    const n = 100_001;
    const idx = decimationIndices(n, MAX_PLOTTED_SAMPLES);
    expect(idx).toHaveLength(MAX_PLOTTED_SAMPLES);
    expect(idx[0]).toBe(0);
    expect(idx[idx.length - 1]).toBe(n - 1);
    const step = (n - 1) / (MAX_PLOTTED_SAMPLES - 1);
    for (let i = 1; i < idx.length; i++) {
      const gap = idx[i] - idx[i - 1];
      expect(gap >= Math.floor(step) && gap <= Math.ceil(step), `gap ${gap} at ${i}`).toBe(true);
    }
    expect(() => decimationIndices(10, 1)).toThrow(UsageError);
  });

  it('limits a dense curve in the spec to MAX_PLOTTED_SAMPLES per axis', () => {
    const spec = buildDriftPlotSpec({ sources: [], curve: { label: 'dense', trace: makeTrace(20_001, false) } });
    const rows = (spec as { data: { values: { axis: string }[] } }).data.values;
    expect(rows.filter((r) => r.axis === 'x')).toHaveLength(MAX_PLOTTED_SAMPLES);
    expect(rows.filter((r) => r.axis === 'y')).toHaveLength(MAX_PLOTTED_SAMPLES);
  });
});

describe('drift plot input errors', () => {
  const trace = makeTrace(10, false);
  it('rejects what cannot be plotted, naming the problem', () => {
    expect(() => buildDriftPlotSpec({ sources: [] })).toThrow(/nothing to plot/);
    expect(() => buildDriftPlotSpec({ sources: [{ label: 'a', trace }], references: [{ label: 'a', trace }] })).toThrow(/two series are labelled 'a'/);
    const short = { ...trace, y: trace.y.subarray(0, 9) };
    expect(() => buildDriftPlotSpec({ sources: [{ label: 'short', trace: short }] })).toThrow(InputError);
    expect(() => buildDriftPlotSpec({ sources: [{ label: 'a', trace }], axes: [] })).toThrow(UsageError);
    expect(() => buildDriftPlotSpec({ sources: [{ label: 'a', trace }], axes: ['x', 'x'] })).toThrow(/twice/);
    expect(() => buildDriftPlotSpec({ sources: [{ label: 'a', trace }], axes: ['w' as 'x'] })).toThrow(/unknown axis 'w'/);
    expect(() => buildDriftPlotSpec({ sources: [{ label: 'a', trace }], width: 0 })).toThrow(/width/);
    const allNaN = { ...trace, x: trace.x.map(() => NaN), y: trace.y.map(() => NaN) };
    expect(() => buildDriftPlotSpec({ sources: [{ label: 'gone', trace: allNaN }] })).toThrow(/no finite samples/);
  });
});

describe('drift plot files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ccdrift-plot-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a PNG at twice the SVG size, with ink, the series colours and the shipped font', async () => {
    const data = plotData(true);
    const path = join(dir, 'drift.png');
    await writeDriftPlot(path, data);
    const bytes = new Uint8Array(readFileSync(path));
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(String.fromCharCode(...bytes.subarray(12, 16))).toBe('IHDR');

    const { width, height } = svgSize(await renderDriftPlotSvg(data));
    const png = decodePng(bytes);
    expect({ width: png.width, height: png.height }).toEqual({ width: width * PNG_SCALE, height: height * PNG_SCALE });
    expect(png.width / PNG_SCALE).toBeGreaterThanOrEqual(800); // a panel ~800 px wide

    const { inkFraction, colours } = inkStats(png.rgba);
    expect(inkFraction).toBeGreaterThan(MIN_INK_FRACTION);
    expect(colours.size).toBeGreaterThan(20);
    expect(png.rgba[3]).toBe(255); // white background, not transparent
    expect(hasColourNear(png.rgba, '#0072B2'), 'source points in blue').toBe(true);
    expect(hasColourNear(png.rgba, '#7f7f7f'), 'reference in grey').toBe(true);
  });

  it('draws text with the shipped font (the same SVG without fonts has less ink)', async () => {
    const svg = await renderDriftPlotSvg(plotData(false));
    const withFont = inkStats(decodePng(new Uint8Array(rasterizePlotSvg(svg))).rgba).inkFraction;
    const noFonts = new Resvg(svg, {
      background: 'white',
      fitTo: { mode: 'zoom', value: PNG_SCALE },
      font: { fontFiles: [], loadSystemFonts: false },
    });
    const withoutText = inkStats(decodePng(new Uint8Array(noFonts.render().asPng())).rgba).inkFraction;
    expect(withFont - withoutText).toBeGreaterThan(0.002);
    expect(existsSync(join(findPlotFontDir(), 'DejaVuSans.ttf'))).toBe(true);
    expect(existsSync(join(findPlotFontDir(), 'LICENSE-DejaVu.txt'))).toBe(true);
  });

  it('writes the SVG as rendered, whatever the case of the extension', async () => {
    const data = plotData(false);
    const path = join(dir, 'drift.SVG');
    await writeDriftPlot(path, data);
    expect(readFileSync(path, 'utf8')).toBe(await renderDriftPlotSvg(data));
  });

  it('refuses other extensions and leaves nothing behind on any error', async () => {
    const sub = mkdtempSync(join(dir, 'errors-'));
    const data = plotData(false);
    await expect(writeDriftPlot(join(sub, 'drift.jpg'), data)).rejects.toThrow(UsageError);
    await expect(writeDriftPlot(join(sub, 'drift.jpg'), data)).rejects.toThrow(/drift\.jpg.*'\.jpg'.*\.svg, \.png/);
    await expect(writeDriftPlot(join(sub, 'drift'), data)).rejects.toThrow(/\(none\)/);
    expect(readdirSync(sub)).toEqual([]);

    // Bad data: the existing file stays as it was, and no temporary file remains.
    const existing = join(sub, 'old.png');
    writeFileSync(existing, 'previous plot');
    await expect(writeDriftPlot(existing, { sources: [{ label: 'a', trace: makeTrace(5, false) }], axes: [] })).rejects.toThrow(UsageError);
    expect(readdirSync(sub)).toEqual(['old.png']);
    expect(readFileSync(existing, 'utf8')).toBe('previous plot');

    // The target directory does not exist: the write fails and leaves nothing anywhere.
    await expect(writeDriftPlot(join(sub, 'missing', 'drift.png'), data)).rejects.toThrow(/ENOENT/);
    expect(readdirSync(sub)).toEqual(['old.png']);
  });
});
