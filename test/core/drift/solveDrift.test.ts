import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildPairs, solveDrift } from '../../../src/core/drift/solveDrift.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectClose } from '../../helpers/expectClose.js';
import { fixturesDir } from '../../helpers/fixtures.js';

/** Pair measurements consistent with a drift (x, y, z per window). */
function consistentShifts(drift: number[][], pairs: Int32Array): Float64Array {
  const s = new Float64Array((pairs.length / 2) * 3);
  for (let p = 0; p < pairs.length / 2; p++) {
    for (let a = 0; a < 3; a++) s[3 * p + a] = drift[pairs[2 * p + 1]][a] - drift[pairs[2 * p]][a];
  }
  return s;
}

describe('buildPairs', () => {
  it('lists RCC pairs within corr_window, all pairs when ≤ 0, DCC pairs from window 0', () => {
    expect(Array.from(buildPairs(4, 'RCC', 2))).toEqual([0, 1, 0, 2, 1, 2, 1, 3, 2, 3]);
    expect(buildPairs(5, 'MCC', -1).length / 2).toBe(10);
    expect(Array.from(buildPairs(4, 'DCC', 5))).toEqual([0, 1, 0, 2, 0, 3]);
  });
});

describe('solveDrift', () => {
  it('is exact on consistent pair shifts, for every method', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 15 }),
        fc.array(fc.double({ min: -500, max: 500, noNaN: true }), { minLength: 45, maxLength: 45 }),
        fc.constantFrom('RCC' as const, 'MCC' as const, 'DCC' as const),
        (n, vals, method) => {
          const drift = Array.from({ length: n }, (_, w) => (w === 0 ? [0, 0, 0] : [vals[3 * w], vals[3 * w + 1], vals[3 * w + 2]]));
          const pairs = buildPairs(n, method, 3);
          const sol = solveDrift(n, pairs, consistentShifts(drift, pairs), { method, shiftMax: 5 });
          for (let a = 0; a < 3; a++)
            expectClose(
              sol.drift[a],
              drift.map((d) => d[a]),
              { atol: 1e-9 },
            );
          expect(sol.rejected).toBe(0);
        },
      ),
      { seed: 42, numRuns: 60 },
    );
  });

  it('RCC rejects a planted outlier and recovers the drift; MCC does not reject', () => {
    const n = 8;
    const drift = Array.from({ length: n }, (_, w) => [10 * w, -3 * w * w, 0]);
    const pairs = buildPairs(n, 'RCC', 3);
    const shifts = consistentShifts(drift, pairs);
    shifts[3 * 4] += 80; // a failed correlation on pair 4
    const rcc = solveDrift(n, pairs, shifts, { method: 'RCC', shiftMax: 5 });
    expect(rcc.used[4]).toBe(0);
    // Rejection rounds re-solve: only the outlier goes (one-shot rejection from the first
    // solution's residuals also threw away 6 good rows here).
    expect(rcc.rejected).toBe(1);
    expectClose(
      rcc.drift[0],
      drift.map((d) => d[0]),
      { atol: 1e-9 },
    );
    const mcc = solveDrift(n, pairs, shifts, { method: 'MCC', shiftMax: 5 });
    expect(mcc.rejected).toBe(0);
    expect(Math.max(...mcc.drift[0].map((v, i) => Math.abs(v - drift[i][0])))).toBeGreaterThan(1);
  });

  it('keeps full rank: never rejects the only row that connects a window', () => {
    const n = 3;
    const pairs = buildPairs(n, 'RCC', 1); // (0,1), (1,2): each row is needed
    const shifts = Float64Array.from([100, 0, 0, 5, 0, 0]);
    const sol = solveDrift(n, pairs, shifts, { method: 'RCC', shiftMax: 1 });
    expect(sol.rejected).toBe(0);
    expectClose(sol.drift[0], [0, 100, 105], { atol: 1e-9 });
  });

  it('drops missing measurements (NaN rows) and still solves', () => {
    const n = 5;
    const drift = Array.from({ length: n }, (_, w) => [w * 7, w * -2, 0]);
    const pairs = buildPairs(n, 'RCC', 2);
    const shifts = consistentShifts(drift, pairs);
    shifts[0] = NaN;
    const sol = solveDrift(n, pairs, shifts, { method: 'RCC', shiftMax: 5 });
    expect(sol.used[0]).toBe(0);
    expectClose(
      sol.drift[0],
      drift.map((d) => d[0]),
      { atol: 1e-9 },
    );
  });

  it("rank-deficient pairs give numpy.linalg.pinv's minimum-norm solution (MCC: no rejection)", () => {
    const fx = JSON.parse(readFileSync(join(fixturesDir, 'core', 'pinv.json'), 'utf8'));
    expect(fx.rank).toBeLessThan(fx.n - 1);
    const pairs = Int32Array.from(fx.pairs.flat());
    const shifts = new Float64Array(3 * fx.pairs.length);
    fx.shifts.forEach((v: number, r: number) => (shifts[3 * r] = v));
    const sol = solveDrift(fx.n, pairs, shifts, { method: 'MCC', shiftMax: 5 });
    expect(sol.fullRank).toBe(false);
    expectClose(sol.drift[0], fx.drift, { atol: 1e-5 });
  });

  it('solves 10 000 windows (an image stack) with a banded system', () => {
    const n = 10_000;
    const drift = Array.from({ length: n }, (_, w) => [w === 0 ? 0 : 50 * Math.sin(w / 700), w === 0 ? 0 : 0.01 * w, 0]);
    const pairs = buildPairs(n, 'RCC', 5);
    const sol = solveDrift(n, pairs, consistentShifts(drift, pairs), { method: 'RCC', shiftMax: 5 });
    expectClose(
      sol.drift[0],
      drift.map((d) => d[0]),
      { atol: 1e-6 },
    );
    const dcc = buildPairs(n, 'DCC', 5);
    const solDcc = solveDrift(n, dcc, consistentShifts(drift, dcc), { method: 'DCC', shiftMax: 5 });
    expectClose(
      solDcc.drift[1],
      drift.map((d) => d[1]),
      { atol: 1e-9 },
    );
  });
});
