/** The statistical baselines 'zscore' and 'iqr': each point scored against the previous W points of its feature. */
import type { Series } from '../tensor.js';

/** Smallest spread the baselines divide by (normalised units), so a flat stretch gives large but finite scores. */
const MIN_SPREAD = 1e-6;

/** |v − mean| / std of the window (population std). */
export function zscoreOf(win: Float64Array, v: number): number {
  const W = win.length;
  let s = 0;
  for (let i = 0; i < W; i++) s += win[i];
  const m = s / W;
  let ss = 0;
  for (let i = 0; i < W; i++) ss += (win[i] - m) ** 2;
  return Math.abs(v - m) / Math.max(Math.sqrt(ss / W), MIN_SPREAD);
}

/** max(Q1 − v, v − Q3) / IQR of the window (linear-interpolation quartiles). Sorts `win` in place. */
export function tukeyOf(win: Float64Array, v: number): number {
  win.sort();
  const q = (p: number): number => {
    const h = (win.length - 1) * p,
      lo = Math.floor(h),
      hi = Math.min(lo + 1, win.length - 1);
    return win[lo] + (h - lo) * (win[hi] - win[lo]);
  };
  const q1 = q(0.25),
    q3 = q(0.75);
  return Math.max(q1 - v, v - q3) / Math.max(q3 - q1, MIN_SPREAD);
}

/**
 * Scores of a normalised series [n, F] by a baseline over the previous W points; points t < W are warm-up (score 0).
 *   'zscore'  score_t = sqrt(mean_f z_f²), contribution z_f²;   'iqr'  score_t = max_f q_f, contribution q_f
 */
export function baselineScores(
  kind: 'zscore' | 'iqr',
  z: Series,
  W: number,
): { scores: Float64Array; contributions: Float64Array; firstScored: number } {
  const { n, F } = z;
  const scores = new Float64Array(n),
    contributions = new Float64Array(n * F);
  const buf = new Float64Array(W);
  for (let t = W; t < n; t++) {
    let agg = 0;
    for (let f = 0; f < F; f++) {
      for (let k = 0; k < W; k++) buf[k] = z.data[(t - W + k) * F + f];
      const v = z.data[t * F + f];
      const c = kind === 'zscore' ? zscoreOf(buf, v) : tukeyOf(buf, v);
      if (kind === 'zscore') {
        contributions[t * F + f] = c * c;
        agg += c * c;
      } else {
        contributions[t * F + f] = c;
        agg = f === 0 ? c : Math.max(agg, c);
      }
    }
    scores[t] = kind === 'zscore' ? Math.sqrt(agg / F) : agg;
  }
  return { scores, contributions, firstScored: W };
}
