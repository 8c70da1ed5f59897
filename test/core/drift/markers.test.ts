/**
 * Issue 14: drift from fiducial markers and by AIM, on simulated acquisitions with known drift
 * (other seeds, sizes and brightness than the bench), each with its bound; picks files; bad input.
 */
import { driftRmse } from '../../helpers/driftError.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDriftInterpolator } from '../../../src/core/drift/driftInterpolator.js';
import { estimateDriftFromLocs } from '../../../src/core/drift/estimateDriftFromLocs.js';
import { estimateDriftFiducial } from '../../../src/core/drift/estimateDriftFiducial.js';
import { AIM_AUTO_LOCS_PER_SEGMENT, AIM_DEFAULTS, autoSegmentFrames } from '../../../src/core/drift/estimateDriftAim.js';
import { InsufficientDataError, UsageError } from '../../../src/core/errors.js';
import { simulateLocalizations, type SimulateLocalizationsOptions } from '../../../src/core/simulate/index.js';
import type { DriftTrace, LocTable } from '../../../src/core/types.js';
import { parsePicassoPicks, parsePicksCsv, readPicks } from '../../../src/io/picks.js';

const rmse = driftRmse;

/** Bounds (nm per axis, offset removed). The issue's targets are for 30 000 frames; these runs are shorter. */
const FIDUCIAL_BOUND_NM = 0.3;
const FIDUCIAL_TROUBLED_BOUND_NM = 0.5;
const AIM_DENSE_BOUND_NM = 1.5;
const AIM_FAST_JUMPS_BOUND_NM = 8;
const AIM_SPARSE_BOUND_NM = 4;
const AIM_3D_LATERAL_BOUND_NM = 2;
const AIM_3D_AXIAL_BOUND_NM = 4;

function simulate(o: SimulateLocalizationsOptions) {
  return simulateLocalizations({ frames: 8000, locs: 40000, emitterColumn: true, ...o });
}

/** Rows of bead k (the simulator's emitter −2 − k). */
function beadRows(table: LocTable, k: number): number[] {
  const e = table.columns.get('emitter')!;
  const out: number[] = [];
  for (let i = 0; i < table.length; i++) if (e[i] === -2 - k) out.push(i);
  return out;
}

/** The table without the given rows. */
function dropRows(table: LocTable, rows: number[]): LocTable {
  const gone = new Set(rows);
  const keep = Int32Array.from({ length: table.length }, (_, i) => i).filter((i) => !gone.has(i));
  const columns = new Map([...table.columns].map(([k, v]) => [k, Float64Array.from(keep, (i) => v[i])]));
  return { length: keep.length, columns, metadata: table.metadata };
}

const cols = (t: LocTable) => ({ x: t.columns.get('x')!, y: t.columns.get('y')!, t: t.columns.get('t')! });

describe('fiducial markers', () => {
  it('four beads: found automatically, tracked, within the bound', async () => {
    const sim = simulate({ beads: 4, seed: 21 });
    const res = await estimateDriftFromLocs(sim.table, { method: 'fiducial' });
    const err = rmse(res.drift, sim.truth, 2);
    console.log(`fiducial, 4 beads: ${err.map((e) => e.toFixed(3)).join(' / ')} nm; ${res.choices.summary.slice(0, 200)}`);
    expect(res.fiducial!.markers.filter((m) => m.used)).toHaveLength(4);
    expect(Math.max(...err)).toBeLessThan(FIDUCIAL_BOUND_NM);
    // The markers' own rows are flagged: every frame of each bead.
    const flagged = res.fiducial!.markerOfRow.reduce((a, v) => a + (v > 0 ? 1 : 0), 0);
    expect(flagged).toBeGreaterThan(0.99 * 4 * 8000);
  });

  it('3D: beads tracked in x, y and z', async () => {
    const sim = simulate({ beads: 4, seed: 28, dim: 3, fieldNm: 9000, driftAmplitudeZNm: 200 });
    const res = await estimateDriftFromLocs(sim.table, { method: 'fiducial' });
    const err = rmse(res.drift, sim.truth, 3);
    console.log(`fiducial, 3D: ${err.map((e) => e.toFixed(3)).join(' / ')} nm`);
    expect(Math.max(...err)).toBeLessThan(FIDUCIAL_BOUND_NM);
  });

  it('dim beads (1500 photons), weighted by their scatter', async () => {
    const sim = simulate({ beads: 3, beadPhotons: 1500, seed: 22 });
    const res = await estimateDriftFromLocs(sim.table, { method: 'fiducial' });
    const err = rmse(res.drift, sim.truth, 2);
    console.log(`fiducial, 3 dim beads: ${err.map((e) => e.toFixed(3)).join(' / ')} nm`);
    expect(Math.max(...err)).toBeLessThan(FIDUCIAL_TROUBLED_BOUND_NM);
  });

  it('a bead that bleaches halfway is used while it lasts and does not bias the rest', async () => {
    const sim = simulate({ beads: 3, seed: 23 });
    const gone = beadRows(sim.table, 0).filter((i) => sim.table.columns.get('t')![i] >= 4000);
    const table = dropRows(sim.table, gone);
    const res = await estimateDriftFromLocs(table, { method: 'fiducial', minFraction: 0.3 });
    const err = rmse(res.drift, sim.truth, 2);
    console.log(`fiducial, one bead bleached halfway: ${err.map((e) => e.toFixed(3)).join(' / ')} nm`);
    const m = res.fiducial!.markers;
    expect(m).toHaveLength(3);
    expect(m.some((k) => k.fraction > 0.45 && k.fraction < 0.55 && k.used)).toBe(true);
    expect(Math.max(...err)).toBeLessThan(FIDUCIAL_TROUBLED_BOUND_NM);
  });

  it("a bead on a blinking structure: the structure's localizations are outliers, not drift", async () => {
    const sim = simulate({ beads: 3, seed: 24, locs: 60000 });
    const { table, emitters } = sim;
    const e = table.columns.get('emitter')!;
    const x = table.columns.get('x') as Float64Array;
    const y = table.columns.get('y') as Float64Array;
    // Move bead 0 onto the emitter with the most localizations (a blinking site on a filament).
    const counts = new Map<number, number>();
    for (let i = 0; i < table.length; i++) if (e[i] >= 0) counts.set(e[i], (counts.get(e[i]) ?? 0) + 1);
    const site = [...counts].sort((a, b) => b[1] - a[1])[0][0];
    const rows = beadRows(table, 0);
    const t = table.columns.get('t')!;
    let bx = 0;
    let by = 0;
    for (const i of rows) {
      bx += x[i] + sim.truth.x[t[i]];
      by += y[i] + sim.truth.y[t[i]];
    }
    bx /= rows.length;
    by /= rows.length;
    for (const i of rows) {
      x[i] += emitters.x[site] - bx + 3;
      y[i] += emitters.y[site] - by - 2;
    }
    const res = await estimateDriftFromLocs(table, { method: 'fiducial' });
    const err = rmse(res.drift, sim.truth, 2);
    console.log(
      `fiducial, bead on a structure: ${err.map((v) => v.toFixed(3)).join(' / ')} nm; ${res.fiducial!.markers.map((m) => m.note ?? '-').join(' | ')}`,
    );
    expect(Math.max(...err)).toBeLessThan(FIDUCIAL_TROUBLED_BOUND_NM);
  });

  it('a bead that drifts off (moves 40 nm against the others) is left out', async () => {
    const sim = simulate({ beads: 4, seed: 25 });
    const x = sim.table.columns.get('x') as Float64Array;
    const t = sim.table.columns.get('t')!;
    for (const i of beadRows(sim.table, 1)) if (t[i] > 2000) x[i] += (40 * (t[i] - 2000)) / 6000;
    const warnings: string[] = [];
    const res = await estimateDriftFromLocs(sim.table, { method: 'fiducial' }, { progress: { warn: (m) => warnings.push(m) } });
    const err = rmse(res.drift, sim.truth, 2);
    console.log(`fiducial, one bead drifting off: ${err.map((v) => v.toFixed(3)).join(' / ')} nm; ${warnings.join(' | ')}`);
    expect(warnings.some((w) => /moves against the other/.test(w))).toBe(true);
    expect(Math.max(...err)).toBeLessThan(FIDUCIAL_TROUBLED_BOUND_NM);
  });

  it('picks from a CSV (nm) and a Picasso picks yaml (pixels) track the same beads', async () => {
    const sim = simulate({ beads: 3, seed: 26 });
    const t = sim.table.columns.get('t')!;
    const x = sim.table.columns.get('x')!;
    const y = sim.table.columns.get('y')!;
    // Centres where the beads are in the table's (uncorrected) coordinates, a radius that holds their drift.
    const centres = [0, 1, 2].map((k) => {
      const rows = beadRows(sim.table, k);
      return [rows.reduce((a, i) => a + x[i], 0) / rows.length, rows.reduce((a, i) => a + y[i], 0) / rows.length];
    });
    expect(t.length).toBeGreaterThan(0);
    const dir = mkdtempSync(join(tmpdir(), 'ccdrift-picks-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'beads.csv'), 'x,y,r\n' + centres.map(([a, b]) => `${a},${b},500`).join('\n') + '\n');
    const px = 100;
    writeFileSync(join(dir, 'beads.yaml'), `Centers:\n${centres.map(([a, b]) => `- [${a / px}, ${b / px}]`).join('\n')}\nDiameter: 10\nShape: Circle\n`);
    for (const file of ['beads.csv', 'beads.yaml']) {
      const picks = await readPicks(join(dir, file), { pixelSizeNm: px });
      expect(picks).toHaveLength(3);
      expect(picks[0].radiusNm).toBeCloseTo(500, 6);
      const res = await estimateDriftFromLocs(sim.table, { method: 'fiducial', picks });
      const err = rmse(res.drift, sim.truth, 2);
      console.log(`fiducial, picks from ${file}: ${err.map((v) => v.toFixed(3)).join(' / ')} nm`);
      expect(res.fiducial!.markers.filter((m) => m.used)).toHaveLength(3);
      expect(Math.max(...err)).toBeLessThan(FIDUCIAL_TROUBLED_BOUND_NM);
    }
  });

  it('a pick at the default radius follows its bead through drift larger than the radius', async () => {
    // Drift of ~300 nm against a 100 nm circle: a circle fixed at the pick kept the bead in ~20 % of the frames.
    const sim = simulate({ beads: 3, seed: 27, driftAmplitudeNm: 300 });
    const t = sim.table.columns.get('t')!;
    const x = sim.table.columns.get('x')!;
    const y = sim.table.columns.get('y')!;
    // Where each bead is in its first frames (a click on the raw image at the start).
    const picks = [0, 1, 2].map((k) => {
      const rows = beadRows(sim.table, k)
        .sort((a, b) => t[a] - t[b])
        .slice(0, 20);
      return { xNm: rows.reduce((a, i) => a + x[i], 0) / rows.length, yNm: rows.reduce((a, i) => a + y[i], 0) / rows.length };
    });
    const res = await estimateDriftFromLocs(sim.table, { method: 'fiducial', picks });
    const err = rmse(res.drift, sim.truth, 2);
    const f = res.fiducial!;
    console.log(`fiducial, picks at the start, 300 nm drift: ${err.map((v) => v.toFixed(3)).join(' / ')} nm; ${f.coveredFrames} of ${f.totalFrames} frames`);
    expect(f.coveredFrames).toBeGreaterThan(0.95 * f.totalFrames);
    expect(f.markers.every((m) => m.fraction > 0.95)).toBe(true);
    expect(Math.max(...err)).toBeLessThan(FIDUCIAL_TROUBLED_BOUND_NM);
  });

  it('picks files: headers, units, no header, and clear errors', () => {
    expect(parsePicksCsv('1000,2000\n3000,4000,50\n', 'p.csv', undefined)).toEqual([
      { xNm: 1000, yNm: 2000, radiusNm: undefined },
      { xNm: 3000, yNm: 4000, radiusNm: 50 },
    ]);
    expect(parsePicksCsv('"y [um]","x [um]","diameter [nm]"\n2,1,100\n', 'p.csv', undefined)).toEqual([{ xNm: 1000, yNm: 2000, radiusNm: 50 }]);
    expect(parsePicksCsv('x [px],y [px]\n10,20\n', 'p.csv', 110)).toEqual([{ xNm: 1100, yNm: 2200, radiusNm: undefined }]);
    expect(() => parsePicksCsv('x [px],y [px]\n10,20\n', 'p.csv', undefined)).toThrow(/pixel size/);
    expect(() => parsePicksCsv('a,b\n1,2\n', 'p.csv', undefined)).toThrow(/columns x and y/);
    expect(() => parsePicksCsv('x,y\n1,abc\n', 'p.csv', undefined)).toThrow(/line 2/);
    expect(parsePicassoPicks('Centers:\n- [1.5, 2.5]\nDiameter: 2\nShape: Circle\n', 'p.yaml', 100)).toEqual([{ xNm: 150, yNm: 250, radiusNm: 100 }]);
    expect(() => parsePicassoPicks('Centers:\n- [1, 2]\n', 'p.yaml', undefined)).toThrow(/camera pixels.*pixel size/);
    expect(() => parsePicassoPicks('Shape: Rectangle\nCenters: []\n', 'p.yaml', 100)).toThrow(/Rectangle/);
    expect(() => parsePicassoPicks('Foo: 1\n', 'p.yaml', 100)).toThrow(/Centers/);
  });

  it('no marker: says what was looked for and suggests picks; picks outside the field are refused', async () => {
    const sim = simulate({ seed: 27, locs: 20000, frames: 4000 });
    const run = () => estimateDriftFiducial(cols(sim.table));
    expect(run).toThrow(InsufficientDataError);
    expect(run).toThrow(/within 100 nm of one point in at least 50% of the 4000 frames.*give the markers \(`picks`\), or a larger `radiusNm`/);
    expect(() => estimateDriftFiducial(cols(sim.table), { picks: [{ xNm: 1e6, yNm: 5000 }] })).toThrow(UsageError);
    expect(() => estimateDriftFiducial(cols(sim.table), { picks: [{ xNm: 1e6, yNm: 5000 }] })).toThrow(/outside the localizations' field/);
  });
});

describe('AIM', () => {
  const fast = [
    { amplitudeNm: 60, periodFrames: 4000 },
    { amplitudeNm: 40, periodFrames: 5000 },
  ];

  it('dense: within the bound, the second round improves on the first', async () => {
    const sim = simulateLocalizations({ frames: 10000, locs: 80000, seed: 31 });
    const res = await estimateDriftFromLocs(sim.table, { method: 'AIM' });
    const err = rmse(res.drift, sim.truth, 2);
    const first = rmse(res.aim!.round1, sim.truth, 2);
    console.log(`AIM dense: ${err.map((v) => v.toFixed(3)).join(' / ')} nm (round 1 ${first.map((v) => v.toFixed(2)).join(' / ')})`);
    expect(Math.max(...err)).toBeLessThan(AIM_DENSE_BOUND_NM);
    expect(Math.max(...err)).toBeLessThan(Math.max(...first));
  });

  it('fast drift with two ~130 nm jumps (beyond the 60 nm radius): followed, with a warning', async () => {
    const sim = simulateLocalizations({
      frames: 15000,
      locs: 80000,
      seed: 32,
      oscillations: fast,
      jumps: [
        { frame: 5000, xNm: 90, yNm: -95 },
        { frame: 10000, xNm: -120, yNm: 50 },
      ],
    });
    const warnings: string[] = [];
    const res = await estimateDriftFromLocs(sim.table, { method: 'AIM' }, { progress: { warn: (m) => warnings.push(m) } });
    const err = rmse(res.drift, sim.truth, 2);
    console.log(`AIM fast + jumps: ${err.map((v) => v.toFixed(3)).join(' / ')} nm; ${warnings.join(' | ')}`);
    expect(Math.max(...err)).toBeLessThan(AIM_FAST_JUMPS_BOUND_NM);
    expect(res.aim!.widenedSegments.length).toBeGreaterThanOrEqual(2);
    expect(warnings.some((w) => /search radius/.test(w))).toBe(true);
  });

  it('a search radius smaller than the drift between segments is named', async () => {
    const sim = simulateLocalizations({ frames: 6000, locs: 40000, seed: 33, driftAmplitudeNm: 2000 });
    const warnings: string[] = [];
    await estimateDriftFromLocs(sim.table, { method: 'AIM', segmentFrames: 200, maxDriftNm: 10 }, { progress: { warn: (m) => warnings.push(m) } });
    expect(warnings.some((w) => /radius is smaller than the drift between segments: raise `maxDriftNm` or shorten `segmentFrames`/.test(w))).toBe(true);
  });

  it('sparse data (25 localizations per 50 frames) with 500-frame segments', async () => {
    const sim = simulateLocalizations({ frames: 20000, locs: 10000, seed: 34 });
    const res = await estimateDriftFromLocs(sim.table, { method: 'AIM', segmentFrames: 500 });
    const err = rmse(res.drift, sim.truth, 2);
    console.log(`AIM sparse: ${err.map((v) => v.toFixed(3)).join(' / ')} nm`);
    expect(Math.max(...err)).toBeLessThan(AIM_SPARSE_BOUND_NM);
  });

  it('sparse data at the defaults: the segment length follows the density, over several seeds and densities', async () => {
    // 100-frame segments of ~40 localizations took false peaks here (24–330 nm RMSE).
    for (const [locs, frames, seed] of [
      [9000, 24000, 37],
      [12000, 30000, 38],
      [6000, 16000, 39],
    ]) {
      const sim = simulateLocalizations({ frames, locs, seed });
      const res = await estimateDriftFromLocs(sim.table, { method: 'AIM' });
      const err = rmse(res.drift, sim.truth, 2);
      const perSegment = res.aim!.segments.map((s) => s.to - s.from).sort((a, b) => a - b)[res.aim!.segments.length >> 1];
      console.log(
        `AIM sparse ${locs}/${frames} (seed ${seed}): segments of ${res.aim!.segmentFrames} frames, median ${perSegment} locs: ${err.map((v) => v.toFixed(2)).join(' / ')} nm`,
      );
      const t = sim.table.columns.get('t')!;
      expect(res.aim!.segmentFrames).toBe(autoSegmentFrames(sim.table.length, Math.floor(t[t.length - 1]) - Math.floor(t[0]) + 1));
      expect(res.aim!.segmentFrames).toBeGreaterThan(AIM_DEFAULTS.segmentFrames);
      expect(perSegment).toBeGreaterThanOrEqual(0.8 * AIM_AUTO_LOCS_PER_SEGMENT);
      expect(Math.max(...err)).toBeLessThan(AIM_SPARSE_BOUND_NM);
    }
  });

  it('segments without a real peak (frames of pure noise) are named and bridged, not taken', async () => {
    const sim = simulateLocalizations({ frames: 20000, locs: 12000, seed: 41 });
    const x = sim.table.columns.get('x')!;
    const y = sim.table.columns.get('y')!;
    const t = sim.table.columns.get('t')!;
    let state = 41;
    const rnd = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
    // Frames 8000–9999 hold only localizations spread at random over the field (a focus loss).
    for (let i = 0; i < t.length; i++) {
      if (t[i] >= 8000 && t[i] < 10000) {
        x[i] = 500 + 19000 * rnd();
        y[i] = 500 + 19000 * rnd();
      }
    }
    const warnings: string[] = [];
    const res = await estimateDriftFromLocs(sim.table, { method: 'AIM' }, { progress: { warn: (m) => warnings.push(m) } });
    const a = res.aim!;
    const noisy = a.segments.flatMap((s, k) => (s.startFrame >= 8000 && s.endFrame <= 10000 ? [k] : []));
    const err = rmse(res.drift, sim.truth, 2);
    console.log(`AIM with 2000 frames of noise: ${err.map((v) => v.toFixed(2)).join(' / ')} nm; unclear ${a.unclearSegments.join(', ')}`);
    for (const k of noisy) expect(a.unclearSegments).toContain(k);
    expect(a.unclearSegments.length).toBeLessThanOrEqual(noisy.length + 2);
    expect(warnings.some((w) => /no clear maximum .* bridged/.test(w))).toBe(true);
    expect(Math.max(...err)).toBeLessThan(AIM_SPARSE_BOUND_NM);
  });

  it('3D: z by its own 1D search', async () => {
    const sim = simulateLocalizations({ frames: 10000, locs: 80000, seed: 35, dim: 3, fieldNm: 9000, driftAmplitudeZNm: 200 });
    const res = await estimateDriftFromLocs(sim.table, { method: 'AIM' });
    const err = rmse(res.drift, sim.truth, 3);
    console.log(`AIM 3D: ${err.map((v) => v.toFixed(3)).join(' / ')} nm`);
    expect(Math.max(err[0], err[1])).toBeLessThan(AIM_3D_LATERAL_BOUND_NM);
    expect(err[2]).toBeLessThan(AIM_3D_AXIAL_BOUND_NM);
  });

  it('refuses parameters that cannot work', async () => {
    const sim = simulateLocalizations({ frames: 2000, locs: 5000, seed: 36 });
    await expect(estimateDriftFromLocs(sim.table, { method: 'AIM', maxDriftNm: 5 })).rejects.toThrow(
      /^`maxDriftNm` \(5 nm\) must be at least half `intersectDistanceNm`/,
    );
    await expect(estimateDriftFromLocs(sim.table, { method: 'AIM', segmentFrames: 5000 })).rejects.toThrow(/only one AIM segment/);
  });
});
