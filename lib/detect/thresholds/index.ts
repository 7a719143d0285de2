/**
 * Thresholds: each turns anomaly scores into a number (or a stream of numbers) above which a score is flagged.
 * Every function here is model-independent and usable on its own; none allocates more than its result.
 *
 * Flag rule. Unless a function says otherwise a point is flagged iff score > threshold (strict), as PyOD
 * (`decision_scores_ > threshold_`) and SPOT (`X_i > z_q`) do. `applyThreshold` implements that rule. Telemanom's
 * dynamic threshold flags score ≥ ε, as its code does, and returns its own flags.
 *
 *   static.ts      fixed, quantile, sigma, iqr, contamination levels from training scores; applyThreshold
 *   pot.ts         peaks over threshold: GPD fit (Grimshaw), POT quantile, SPOT and DSPOT (streaming)
 *   telemanom.ts   EWMA smoothing and Telemanom's nonparametric dynamic threshold
 */
export type { Numbers } from './numbers.js';
export * from './static.js';
export * from './pot.js';
export * from './telemanom.js';
