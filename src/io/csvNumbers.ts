/**
 * Numbers as CSV text, straight to and from bytes: the writer's and reader's hot loops.
 *
 * Writing gives exactly the text the plain rules give (`String(v)` for a float64, the float32
 * rule below for a float32), byte for byte, without a string per cell when the value allows:
 * - integers up to 2^53 are written digit by digit;
 * - a float64 with ≤ 15 significant digits, 1e-6 ≤ |v| < 1e15, is found as m / 10^k with m <
 *   10^15 and k as small as possible; m and 10^k are exact doubles, so `m / 10^k === v` is
 *   exactly "the decimal m·10^-k parses to v" (Clinger's fast path), and at ≤ 15 digits at
 *   most one decimal does (their spacing exceeds a double's): that is `String(v)`'s digits;
 * - a float32 in [1e-4, 1e6) follows `formatFloat32` step by step with exact arithmetic (a
 *   float32 times 10^k, k ≤ 12, is exact in a double: 24 + 28 bits);
 * - anything else (17-digit values, NaN, ±Infinity, tiny or huge magnitudes) goes through
 *   `String` and its characters are copied.
 * Every path writes ASCII only.
 */

/** 10^0 … 10^22, all exact in float64 (built by multiplication: `**` may round). */
export const POW10: readonly number[] = (() => {
  const p = [1];
  for (let k = 1; k <= 22; k++) p.push(p[k - 1] * 10);
  return p;
})();

/** Most bytes one number can take: `-2.2250738585072014e-308` is 24. */
export const MAX_NUMBER_BYTES = 32;

/** Shortest decimal text that parses back to the same float32 (the reference rule). */
export function formatFloat32(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  // Every float32 needing ≤ 6 significant digits is found at p = 6 (String() drops the zeros).
  for (let p = 6; p <= 9; p++) {
    const s = +v.toPrecision(p);
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}

function writeString(out: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[pos++] = s.charCodeAt(i);
  return pos;
}

/** Write the non-negative integer n < 2^53 in decimal. */
function writeDigits(out: Uint8Array, pos: number, n: number): number {
  let len = 1;
  while (len < 16 && n >= POW10[len]) len++;
  let p = pos + len;
  if (n < 2147483648) {
    let q = n | 0;
    do {
      const r = (q / 10) | 0;
      out[--p] = 48 + q - r * 10;
      q = r;
    } while (q !== 0);
  } else {
    do {
      const d = n % 10;
      out[--p] = 48 + d;
      n = (n - d) / 10;
    } while (n !== 0);
  }
  return pos + len;
}

/** Write m·10^-k (m < 2^53 a non-negative integer, 0 ≤ k ≤ 22) without trailing zeros. */
function writeFixed(out: Uint8Array, pos: number, m: number, k: number): number {
  while (k > 0 && m % 10 === 0) {
    m /= 10;
    k--;
  }
  if (k === 0) return writeDigits(out, pos, m);
  const scale = POW10[k];
  let q = Math.floor(m / scale);
  let r = m - q * scale;
  if (r < 0) {
    q--;
    r += scale;
  } else if (r >= scale) {
    q++;
    r -= scale;
  }
  pos = writeDigits(out, pos, q);
  out[pos++] = 46; // '.'
  // r has at most k digits: zero-pad on the left.
  let len = 1;
  while (len < 16 && r >= POW10[len]) len++;
  for (let z = len; z < k; z++) out[pos++] = 48;
  return writeDigits(out, pos, r);
}

/** Write `String(v)` as bytes at out[pos…]; returns the new position. */
export function writeFloat64(out: Uint8Array, pos: number, v: number): number {
  let a = v;
  if (a < 0) {
    out[pos++] = 45; // '-'
    a = -a;
  }
  if (a < 9007199254740992 && Math.floor(a) === a) return writeDigits(out, pos, a); // (also ±0 → "0")
  if (a >= 1e-6 && a < 1e15) {
    for (let k = 1; k <= 22; k++) {
      const m = Math.round(a * POW10[k]);
      if (m >= 1e15) break;
      if (m / POW10[k] === a) return writeFixed(out, pos, m, k);
    }
  }
  return writeString(out, pos, String(a));
}

/** Write `formatFloat32(v)` as bytes at out[pos…] (v a float32 value); returns the new position. */
export function writeFloat32(out: Uint8Array, pos: number, v: number): number {
  let a = v;
  if (a < 0) {
    out[pos++] = 45;
    a = -a;
  }
  if (a >= 1e-4 && a < 1e6) {
    // e: 10^e ≤ a < 10^(e+1), −4 ≤ e ≤ 5 (comparisons of exact products).
    let e = 0;
    if (a >= 1) while (e < 5 && a >= POW10[e + 1]) e++;
    else {
      e = -1;
      while (e > -4 && a * POW10[-e] < 1) e--;
    }
    for (let p = 6; p <= 9; p++) {
      // v.toPrecision(p) is n·10^(e−p+1) with n the integer nearest a·10^(p−1−e), the larger
      // on a tie; with k = p−1−e ∈ [0, 12], a·10^k is exact and so is floor(a·10^k + 0.5).
      const k = p - 1 - e;
      const m = Math.floor(a * POW10[k] + 0.5);
      const s = m / POW10[k]; // = +v.toPrecision(p): m < 2^53, one correctly rounded division
      if (Math.fround(s) === a) return writeFixed(out, pos, m, k);
    }
    return writeString(out, pos, String(a));
  }
  return writeString(out, pos, formatFloat32(a));
}
