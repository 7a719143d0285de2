import { expect } from 'chai';
import { ArgumentError } from '../../../../lib/errors';
import {
  Dspot,
  gpdFit,
  gpdLogLikelihood,
  potQuantile,
  Spot,
  spotThreshold,
} from '../../../../lib/detect/thresholds/pot';
import { makeRng, type Rng } from '../../../helpers/rng';

/** n draws from GPD(γ, σ) by the inverse CDF: Y = σ/γ·((1-U)^(-γ) - 1), or -σ·log(1-U) for γ = 0. */
function gpdSample(n: number, gamma: number, sigma: number, rng: Rng): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng();
    y[i] = gamma === 0 ? -sigma * Math.log(1 - u) : (sigma / gamma) * (Math.pow(1 - u, -gamma) - 1);
  }
  return y;
}

/** Oracle: maximum of the GPD profile log-likelihood over a dense grid of x = γ/σ (independent of Grimshaw's roots). */
function bruteForceMaxLogLikelihood(y: Float64Array): number {
  let ymax = -Infinity;
  for (const v of y) ymax = Math.max(ymax, v);
  let best = gpdLogLikelihood(y, 0, y.reduce((a, b) => a + b, 0) / y.length);
  const K = 3000;
  for (let k = 1; k < K; k++) {
    // x from just above -1/ymax to 4 (covers γ/σ of every case below with margin)
    const x = -1 / ymax + (k / K) * (1 / ymax + 4);
    if (Math.abs(x) < 1e-9) continue;
    let u = 0;
    for (const v of y) u += Math.log1p(x * v);
    const g = u / y.length;
    const s = g / x;
    if (s > 0) best = Math.max(best, gpdLogLikelihood(y, g, s));
  }
  return best;
}

describe('detect/thresholds: GPD fit (Grimshaw) and the POT quantile', () => {
  it('potQuantile matches z_q = t + σ/γ·((q·n/N_t)^(-γ) - 1) computed by hand, and its γ = 0 limit', () => {
    // r = 1e-3·1000/10 = 0.1; r^(-0.5) = √10
    expect(potQuantile(10, 0.5, 2, 1e-3, 1000, 10)).to.be.closeTo(10 + 4 * (Math.sqrt(10) - 1), 1e-12);
    // γ = -0.5: r^(0.5) = √0.1; z = 10 + 2/(-0.5)·(√0.1 - 1) = 10 + 4·(1 - 0.316227766) = 12.735088936
    expect(potQuantile(10, -0.5, 2, 1e-3, 1000, 10)).to.be.closeTo(12.735088935932648, 1e-12);
    const z0 = potQuantile(10, 0, 2, 1e-3, 1000, 10);
    expect(z0).to.be.closeTo(10 + 2 * Math.log(10), 1e-12);
    expect(potQuantile(10, 1e-12, 2, 1e-3, 1000, 10)).to.be.closeTo(z0, 1e-9);
    expect(potQuantile(10, -1e-12, 2, 1e-3, 1000, 10)).to.be.closeTo(z0, 1e-9);
  });

  it('gpdLogLikelihood matches hand values', () => {
    expect(gpdLogLikelihood([1, 2], 0, 1)).to.be.closeTo(-3, 1e-12);
    expect(gpdLogLikelihood([1], 0.5, 1)).to.be.closeTo(-3 * Math.log(1.5), 1e-12);
    expect(gpdLogLikelihood([3], -0.5, 1)).to.equal(-Infinity); // outside the support σ/|γ| = 2
  });

  const cases: Array<{ gamma: number; sigma: number }> = [
    { gamma: 0.5, sigma: 1 },
    { gamma: 0.2, sigma: 2 },
    { gamma: 0, sigma: 1.5 },
    { gamma: -0.2, sigma: 1 },
    { gamma: -0.4, sigma: 3 },
  ];
  for (const { gamma, sigma } of cases) {
    it(`recovers γ = ${gamma}, σ = ${sigma} from 5000 seeded GPD draws and attains the maximum likelihood`, () => {
      const y = gpdSample(5000, gamma, sigma, makeRng(`gpd:${gamma}:${sigma}`));
      const fit = gpdFit(y);
      // Tolerances ≈ 3.5 standard errors of the MLE at n = 5000: sd(γ̂) ≈ (1+γ)/√n ≤ 0.021, sd(σ̂)/σ ≈ 0.02.
      expect(fit.gamma, 'gamma').to.be.closeTo(gamma, 0.06);
      expect(fit.sigma / sigma, 'sigma ratio').to.be.closeTo(1, 0.07);
      // The fit must be the maximum-likelihood estimate: no grid point of the profile likelihood does better.
      const oracle = bruteForceMaxLogLikelihood(y);
      expect(fit.logLikelihood, `logLikelihood ${fit.logLikelihood} vs grid max ${oracle}`).to.be.at.least(
        oracle - 1e-6,
      );
      expect(fit.logLikelihood).to.be.closeTo(gpdLogLikelihood(y, fit.gamma, fit.sigma), 1e-9);
    });
  }

  it('finds a heavy-tail root that the reference code’s right-interval lower bound excludes', () => {
    // γ = 0.5: x* = γ/σ ≈ 0.5, while 2(ȳ - y_min)/(ȳ·y_min) is in the thousands for this sample.
    const y = gpdSample(2000, 0.5, 1, makeRng('heavy'));
    let ymin = Infinity;
    let sum = 0;
    for (const v of y) {
      ymin = Math.min(ymin, v);
      sum += v;
    }
    const ymean = sum / y.length;
    expect((2 * (ymean - ymin)) / (ymean * ymin)).to.be.greaterThan(100);
    const fit = gpdFit(y);
    expect(fit.gamma).to.be.closeTo(0.5, 0.1);
    expect(fit.logLikelihood).to.be.greaterThan(gpdLogLikelihood(y, 0, ymean) + 10); // far better than the exponential
  });

  it('degenerate samples: equal peaks give the exponential, bad peaks throw', () => {
    const fit = gpdFit([2, 2, 2]);
    expect(fit.gamma).to.equal(0);
    expect(fit.sigma).to.equal(2);
    expect(() => gpdFit([1, 0])).to.throw(ArgumentError, 'positive');
    expect(() => gpdFit([])).to.throw(ArgumentError, 'gpdFit(peaks)');
  });
});

describe('detect/thresholds: SPOT', () => {
  const calibration = gpdSample(20000, 0, 1, makeRng('spot-calibration')); // Exp(1)

  it('calibrates as the paper: t = order statistic ⌊level·n⌋, peaks above t, GPD fit, z_q', () => {
    const spot = new Spot(calibration, { q: 1e-4, level: 0.98 });
    const sorted = Float64Array.from(calibration).sort();
    const t = sorted[Math.floor(0.98 * calibration.length)];
    expect(spot.initThreshold).to.equal(t);
    const peaks = Array.from(calibration)
      .filter((v) => v > t)
      .map((v) => v - t);
    expect(spot.peakCount).to.equal(peaks.length);
    expect(spot.n).to.equal(calibration.length);
    const fit = gpdFit(peaks);
    expect(spot.gamma).to.be.closeTo(fit.gamma, 1e-12);
    expect(spot.sigma).to.be.closeTo(fit.sigma, 1e-12);
    expect(spot.threshold).to.be.closeTo(
      potQuantile(t, fit.gamma, fit.sigma, 1e-4, calibration.length, peaks.length),
      1e-12,
    );
    // Exp(1): the true 1 - 1e-4 quantile is -log(1e-4) = 9.21.
    expect(spot.threshold).to.be.closeTo(-Math.log(1e-4), 1.0);
    expect(spotThreshold(calibration, { q: 1e-4 })).to.equal(spot.threshold);
  });

  it('update(): alarms leave the model alone, peaks refit it, normal points only count', () => {
    const spot = new Spot(calibration, { q: 1e-3 });
    const z0 = spot.threshold;
    const t = spot.initThreshold;
    const n0 = spot.n;
    const nt0 = spot.peakCount;

    const alarm = spot.update(z0 + 5);
    expect(alarm).to.deep.equal({ threshold: z0, flag: 1 });
    expect([spot.n, spot.peakCount, spot.threshold]).to.deep.equal([n0, nt0, z0]);

    const normal = spot.update(t - 0.5);
    expect(normal).to.deep.equal({ threshold: z0, flag: 0 });
    expect([spot.n, spot.peakCount, spot.threshold]).to.deep.equal([n0 + 1, nt0, z0]);

    const x = (t + z0) / 2;
    const peak = spot.update(x);
    expect(peak).to.deep.equal({ threshold: z0, flag: 0 });
    expect([spot.n, spot.peakCount]).to.deep.equal([n0 + 2, nt0 + 1]);
    const peaks = Array.from(calibration)
      .filter((v) => v > t)
      .map((v) => v - t);
    peaks.push(x - t);
    const fit = gpdFit(peaks);
    expect(spot.threshold).to.be.closeTo(potQuantile(t, fit.gamma, fit.sigma, 1e-3, n0 + 2, nt0 + 1), 1e-12);
    expect(spot.threshold).to.not.equal(z0);
    expect(() => spot.update(NaN)).to.throw(ArgumentError, 'Spot.update(x)');
  });

  it('on a stationary stream alarms at about rate q and catches injected spikes', () => {
    const spot = new Spot(calibration, { q: 1e-3 });
    const stream = gpdSample(5000, 0, 1, makeRng('spot-stream'));
    for (const i of [1000, 2500, 4000]) stream[i] = 30;
    let alarms = 0;
    const flagged: number[] = [];
    stream.forEach((x, i) => {
      const { threshold, flag } = spot.update(x);
      expect(flag).to.equal(x > threshold ? 1 : 0);
      alarms += flag;
      if (flag) flagged.push(i);
    });
    expect(flagged).to.include.members([1000, 2500, 4000]);
    expect(alarms).to.be.at.most(3 + 20); // ≈ 5 expected false alarms at q = 1e-3
  });

  it('maxPeaks bounds the stored peaks while N_t keeps counting', () => {
    const spot = new Spot(calibration, { q: 1e-3, maxPeaks: 50 });
    expect(spot.storedPeaks).to.equal(50);
    const before = spot.peakCount;
    for (let i = 0; i < 20; i++) spot.update(spot.initThreshold + 0.01);
    expect(spot.storedPeaks).to.equal(50);
    expect(spot.peakCount).to.equal(before + 20);
  });

  it('rejects calibration without peaks and bad options', () => {
    expect(() => new Spot(new Float64Array(100).fill(1))).to.throw(ArgumentError, 'no calibration value exceeds');
    expect(() => new Spot(calibration, { q: 0 })).to.throw(ArgumentError, 'options.q');
    expect(() => new Spot(calibration, { level: 1 })).to.throw(ArgumentError, 'options.level');
    expect(() => new Spot([1, 2, NaN])).to.throw(ArgumentError, 'Spot(calibration)');
  });
});

describe('detect/thresholds: DSPOT', () => {
  const drift = (n: number, offset: number, rng: Rng): Float64Array => {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = 0.01 * (offset + i) + 0.1 * rng();
    return x;
  };

  it('calibrates on T_i = X_i - mean(X_{i-d..i-1})', () => {
    const x = drift(2000, 0, makeRng('dspot-cal'));
    const d = 5;
    const dspot = new Dspot(x, { depth: d, q: 1e-3 });
    const T: number[] = [];
    for (let i = d; i < x.length; i++) {
      let m = 0;
      for (let j = i - d; j < i; j++) m += x[j];
      T.push(x[i] - m / d);
    }
    const sorted = T.slice().sort((a, b) => a - b);
    expect(dspot.initThreshold).to.be.closeTo(sorted[Math.floor(0.98 * T.length)], 1e-12);
    expect(dspot.n).to.equal(T.length);
    let m = 0;
    for (let j = x.length - d; j < x.length; j++) m += x[j];
    expect(dspot.movingAverage).to.be.closeTo(m / d, 1e-12);
    expect(dspot.threshold).to.be.closeTo(dspot.relativeThreshold + m / d, 1e-12);
  });

  it('follows a drifting level that makes SPOT alarm on everything, and still catches a spike', () => {
    const cal = drift(2000, 0, makeRng('dspot-cal'));
    const stream = drift(1000, 2000, makeRng('dspot-stream'));
    stream[500] = stream[500] + 2;
    const spot = new Spot(cal, { q: 1e-3 });
    const dspot = new Dspot(cal, { q: 1e-3, depth: 10 });
    let spotAlarms = 0;
    const dspotFlagged: number[] = [];
    stream.forEach((x, i) => {
      spotAlarms += spot.update(x).flag;
      const before = dspot.movingAverage;
      const step = dspot.update(x);
      if (step.flag) {
        dspotFlagged.push(i);
        expect(dspot.movingAverage, 'an alarm must not enter the window').to.equal(before);
      }
    });
    expect(spotAlarms).to.be.greaterThan(900);
    expect(dspotFlagged).to.include(500);
    expect(dspotFlagged.length).to.be.at.most(10);
  });

  it('rejects a calibration no longer than the depth', () => {
    expect(() => new Dspot([1, 2, 3], { depth: 3 })).to.throw(ArgumentError, 'at least 4');
    expect(() => new Dspot([1, 2, 3], { depth: 0 })).to.throw(ArgumentError, 'options.depth');
  });
});
