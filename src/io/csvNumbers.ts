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
    const end = writeDigitsOf(out, pos, a);
    if (end > 0) return end;
    for (let k = 1; k <= 22; k++) {
      const m = Math.round(a * POW10[k]);
      if (m >= 1e15) break;
      if (m / POW10[k] === a) return writeFixed(out, pos, m, k);
    }
  }
  return writeString(out, pos, String(a));
}

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // little-endian: word 1
const SPLITTER = 134217729; // 2^27 + 1 (Dekker)
const digits17 = new Uint8Array(17);

/**
 * `String(a)` for 1e-6 ≤ a < 1e15 (not an integer), or −1 when a case is not clear-cut (a
 * power of two, an exact tie, ≤ 2 significant digits): the caller then searches otherwise.
 *
 * A = a·10^k (k for 17 integer digits) is computed exactly as hi + lo (Dekker's product).
 * The 17-digit candidate is the integer m nearest A; a decimal C·10^-k parses back to a iff
 * |C − A| < ulp(a)·10^k / 2 (strictly: equality is a tie, left to the caller). `String`
 * takes the fewest digits that parse back and, among those, the nearest to a: the multiple of
 * 10^j nearest A for the largest j where one qualifies.
 */
function writeDigitsOf(out: Uint8Array, pos: number, a: number): number {
  bits[0] = a;
  const high = words[HIGH];
  if ((high & 0xfffff) === 0 && words[1 - HIGH] === 0) return -1; // a power of two: uneven interval
  // e: 10^e ≤ a < 10^(e+1) (a wrong guess at a boundary is caught by the range test below).
  let e = 0;
  if (a >= 1) while (e < 15 && a >= POW10[e + 1]) e++;
  else {
    e = -1;
    while (e > -6 && a * POW10[-e] < 1) e--;
  }
  const k = 16 - e; // 1 … 22
  const p = POW10[k];
  const hi = a * p;
  if (!(hi >= 1e16 && hi < 1e17)) return -1;
  const t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  const u = SPLITTER * p;
  const ph = u - (u - p);
  const pl = p - ph;
  const lo = ah * ph - hi + ah * pl + al * ph + al * pl; // a·p − hi, exactly
  const n = Math.round(lo);
  const delta = lo - n; // A = (hi + n) + delta, |delta| ≤ 1/2
  if (delta === 0.5 || delta === -0.5) return -1;
  // ulp(a) from its exponent bits, times 10^k / 2: exact (powers of two and 10^k ≤ 10^22).
  words[HIGH] = (high & 0x7ff00000) - (52 << 20);
  words[1 - HIGH] = 0;
  const half = (bits[0] * p) / 2;
  // m = hi + n as q·10^9 + r (hi is an integer ≥ 2^53; each step below is exact).
  let q = Math.floor(hi / 1e9);
  let r = hi - q * 1e9 + n;
  while (r < 0) {
    q--;
    r += 1e9;
  }
  while (r >= 1e9) {
    q++;
    r -= 1e9;
  }
  // Fewer digits: the multiples of 10^j nearest A (below and above), while one parses back to a.
  // A multiple of 10^(j+1) is one of 10^j, so once no candidate qualifies none further does.
  let j = 0;
  let dj = 0;
  let up = false;
  for (let jj = 1; jj <= 15; jj++) {
    const unit = POW10[jj];
    // m mod 10^jj, exact (< 10^15); r < 10^9 and q < 10^8 here, so int32 arithmetic.
    const dd = jj <= 9 ? (r | 0) % (unit | 0) : ((q | 0) % (POW10[jj - 9] | 0)) * 1e9 + r;
    const below = Math.abs(dd + delta);
    const above = unit - dd - delta;
    if (!(below < half || above < half)) break;
    if (below === above || below === half || above === half) return -1;
    j = jj;
    dj = dd;
    up = above < below;
  }
  if (j === 15) return -1; // one or two digits: the caller's exact search finds them
  if (j === 0) {
    if (Math.abs(delta) >= half) return -1;
  } else if (j <= 9) {
    r = r - dj + (up ? POW10[j] : 0);
    if (r >= 1e9) {
      q++;
      r -= 1e9;
    }
  } else {
    const unit = POW10[j - 9];
    q = q - (q % unit) + (up ? unit : 0);
    r = 0;
  }
  if (q < 1e7 || q >= 1e8) return -1;
  // The 17 digits of q·10^9 + r, then placed around the decimal point without trailing zeros.
  let qi = q | 0;
  for (let i = 7; i >= 0; i--) {
    const qq = (qi / 10) | 0;
    digits17[i] = 48 + qi - qq * 10;
    qi = qq;
  }
  let ri = r | 0;
  for (let i = 16; i >= 8; i--) {
    const rr = (ri / 10) | 0;
    digits17[i] = 48 + ri - rr * 10;
    ri = rr;
  }
  let last = 16;
  while (last > 0 && digits17[last] === 48) last--;
  if (e >= 0) {
    for (let i = 0; i <= e; i++) out[pos++] = i <= last ? digits17[i] : 48;
    if (last > e) {
      out[pos++] = 46;
      for (let i = e + 1; i <= last; i++) out[pos++] = digits17[i];
    }
  } else {
    out[pos++] = 48;
    out[pos++] = 46;
    for (let i = -1; i > e; i--) out[pos++] = 48;
    for (let i = 0; i <= last; i++) out[pos++] = digits17[i];
  }
  return pos;
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
