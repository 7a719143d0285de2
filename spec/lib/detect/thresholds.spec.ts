import { expect } from 'chai';
import {
  applyThreshold,
  contaminationThreshold,
  Dspot,
  dynamicThreshold,
  Ewma,
  ewma,
  fixedThreshold,
  gpdFit,
  gpdLogLikelihood,
  iqrThreshold,
  potQuantile,
  quantile,
  quantileThreshold,
  sigmaThreshold,
  Spot,
  spotThreshold,
} from '../../../lib/detect/thresholds';
import { makeRng, Rng } from '../../helpers/rng';

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

describe('detect/thresholds: static thresholds', () => {
  it('quantile follows numpy linear interpolation (hand-computed)', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).to.equal(2.5);
    expect(quantile([4, 1, 3, 2], 0.25)).to.equal(1.75); // h = 3·0.25 = 0.75 → 1 + 0.75·1
    expect(quantile([10, 20, 30, 40, 50], 0.9)).to.be.closeTo(46, 1e-12); // h = 3.6 → 40 + 0.6·10
    expect(quantile([10, 20, 30, 40, 50], 0)).to.equal(10);
    expect(quantile([10, 20, 30, 40, 50], 1)).to.equal(50);
    expect(quantile([7], 0.3)).to.equal(7);
    expect(quantileThreshold([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)).to.be.closeTo(9.5, 1e-12);
  });

  it('quantile rejects bad input with errors naming the argument', () => {
    expect(() => quantile([1, 2], 1.5)).to.throw(RangeError, 'quantile(p)');
    expect(() => quantile([], 0.5)).to.throw(RangeError, 'quantile(x)');
    expect(() => quantile([1, NaN], 0.5)).to.throw(RangeError, 'index 1');
  });

  it('sigmaThreshold is mean + k·σ with the population σ', () => {
    // mean 5, Σ(x-5)² = 32, population σ = √(32/8) = 2 (the sample σ would be 2.138…)
    expect(sigmaThreshold([2, 4, 4, 4, 5, 5, 7, 9], 2)).to.be.closeTo(9, 1e-12);
    expect(sigmaThreshold([2, 4, 4, 4, 5, 5, 7, 9])).to.be.closeTo(11, 1e-12); // default k = 3
  });

  it('iqrThreshold is Q3 + k·(Q3 - Q1)', () => {
    expect(iqrThreshold([1, 2, 3, 4, 5, 6, 7, 8, 9], 1.5)).to.be.closeTo(13, 1e-12); // Q1 3, Q3 7
    expect(iqrThreshold([1, 2, 3, 4])).to.be.closeTo(3.25 + 1.5 * 1.5, 1e-12); // Q1 1.75, Q3 3.25
  });

  it('contaminationThreshold is PyOD’s percentile 100·(1 - c); about c of the training scores lie above it', () => {
    const s = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const t = contaminationThreshold(s, 0.1);
    expect(t).to.be.closeTo(8.1, 1e-12); // h = 9·0.9 = 8.1
    expect(Array.from(applyThreshold(s, t)).reduce((a, b) => a + b, 0)).to.equal(1);
    expect(contaminationThreshold(s, 0.5)).to.be.closeTo(4.5, 1e-12);
    expect(() => contaminationThreshold(s, 0.6)).to.throw(RangeError, 'contamination');
    expect(() => contaminationThreshold(s, 0)).to.throw(RangeError, 'contamination');
  });

  it('fixedThreshold and applyThreshold (strict >)', () => {
    expect(fixedThreshold(0.5)).to.equal(0.5);
    expect(() => fixedThreshold(NaN)).to.throw(RangeError, 'fixedThreshold(value)');
    expect(Array.from(applyThreshold([0.1, 0.5, 0.9], 0.5))).to.deep.equal([0, 0, 1]);
    expect(() => applyThreshold([0.1, NaN], 0.5)).to.throw(RangeError, 'index 1');
  });
});

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
      expect(fit.logLikelihood, `logLikelihood ${fit.logLikelihood} vs grid max ${oracle}`).to.be.at.least(oracle - 1e-6);
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
    expect(() => gpdFit([1, 0])).to.throw(RangeError, 'positive');
    expect(() => gpdFit([])).to.throw(RangeError, 'gpdFit(peaks)');
  });
});

describe('detect/thresholds: SPOT', () => {
  const calibration = gpdSample(20000, 0, 1, makeRng('spot-calibration')); // Exp(1)

  it('calibrates as the paper: t = order statistic ⌊level·n⌋, peaks above t, GPD fit, z_q', () => {
    const spot = new Spot(calibration, { q: 1e-4, level: 0.98 });
    const sorted = Float64Array.from(calibration).sort();
    const t = sorted[Math.floor(0.98 * calibration.length)] as number;
    expect(spot.initThreshold).to.equal(t);
    const peaks = Array.from(calibration).filter((v) => v > t).map((v) => v - t);
    expect(spot.peakCount).to.equal(peaks.length);
    expect(spot.n).to.equal(calibration.length);
    const fit = gpdFit(peaks);
    expect(spot.gamma).to.be.closeTo(fit.gamma, 1e-12);
    expect(spot.sigma).to.be.closeTo(fit.sigma, 1e-12);
    expect(spot.threshold).to.be.closeTo(potQuantile(t, fit.gamma, fit.sigma, 1e-4, calibration.length, peaks.length), 1e-12);
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
    const peaks = Array.from(calibration).filter((v) => v > t).map((v) => v - t);
    peaks.push(x - t);
    const fit = gpdFit(peaks);
    expect(spot.threshold).to.be.closeTo(potQuantile(t, fit.gamma, fit.sigma, 1e-3, n0 + 2, nt0 + 1), 1e-12);
    expect(spot.threshold).to.not.equal(z0);
    expect(() => spot.update(NaN)).to.throw(RangeError, 'Spot.update(x)');
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
    expect(() => new Spot(new Float64Array(100).fill(1))).to.throw(RangeError, 'no calibration value exceeds');
    expect(() => new Spot(calibration, { q: 0 })).to.throw(RangeError, 'options.q');
    expect(() => new Spot(calibration, { level: 1 })).to.throw(RangeError, 'options.level');
    expect(() => new Spot([1, 2, NaN])).to.throw(RangeError, 'Spot(calibration)');
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
      for (let j = i - d; j < i; j++) m += x[j] as number;
      T.push((x[i] as number) - m / d);
    }
    const sorted = T.slice().sort((a, b) => a - b);
    expect(dspot.initThreshold).to.be.closeTo(sorted[Math.floor(0.98 * T.length)] as number, 1e-12);
    expect(dspot.n).to.equal(T.length);
    let m = 0;
    for (let j = x.length - d; j < x.length; j++) m += x[j] as number;
    expect(dspot.movingAverage).to.be.closeTo(m / d, 1e-12);
    expect(dspot.threshold).to.be.closeTo(dspot.relativeThreshold + m / d, 1e-12);
  });

  it('follows a drifting level that makes SPOT alarm on everything, and still catches a spike', () => {
    const cal = drift(2000, 0, makeRng('dspot-cal'));
    const stream = drift(1000, 2000, makeRng('dspot-stream'));
    stream[500] = (stream[500] as number) + 2;
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
    expect(() => new Dspot([1, 2, 3], { depth: 3 })).to.throw(RangeError, 'at least 4');
    expect(() => new Dspot([1, 2, 3], { depth: 0 })).to.throw(RangeError, 'options.depth');
  });
});

describe('detect/thresholds: EWMA and Telemanom’s dynamic threshold', () => {
  it('ewma equals pandas ewm(span).mean() (adjust = True) by hand, and the streaming form agrees', () => {
    const y = ewma([1, 2, 3], 3); // α = 0.5
    expect(y[0]).to.equal(1);
    expect(y[1]).to.be.closeTo(5 / 3, 1e-15);
    expect(y[2]).to.be.closeTo(17 / 7, 1e-15);
    const x = Array.from({ length: 50 }, (_, i) => Math.sin(i) + i / 10);
    const batch = ewma(x, 7);
    const s = new Ewma(7);
    x.forEach((v, i) => expect(s.push(v)).to.equal(batch[i]));
    expect(() => ewma([1], 0.5)).to.throw(RangeError, 'ewma(span)');
  });

  const baseline = (n: number, seed: string): Float64Array => {
    const rng = makeRng(seed);
    const e = new Float64Array(n);
    for (let i = 0; i < n; i++) e[i] = 1 + 0.1 * rng();
    return e;
  };

  it('flags an obvious spike with its buffer; ties between z go to the larger z, as Telemanom', () => {
    const e = baseline(200, 'telemanom');
    for (let i = 100; i <= 104; i++) e[i] = 10;
    const r = dynamicThreshold(e, { errorBuffer: 2 });
    const mu = e.reduce((a, b) => a + b, 0) / e.length;
    const sd = Math.sqrt(e.reduce((a, b) => a + (b - mu) ** 2, 0) / e.length);
    // z = 2.5 … 6 all isolate exactly the spike (ε(6) = μ + 6σ < 10 < ε(6.5)), so their scores tie and 6 wins.
    expect(mu + 6 * sd).to.be.lessThan(10);
    expect(mu + 6.5 * sd).to.be.greaterThan(10);
    expect(r.z).to.equal(6);
    expect(r.threshold).to.be.closeTo(mu + 6 * sd, 1e-12);
    expect(r.sequences).to.deep.equal([[98, 106]]);
    expect(r.pruned).to.deep.equal([]);
    const expected = new Uint8Array(200);
    expected.fill(1, 98, 107);
    expect(Array.from(r.flags)).to.deep.equal(Array.from(expected));
  });

  it('prunes a sequence whose maximum is within p of the next lower maximum', () => {
    const e = new Float64Array(200).fill(1);
    e[50] = 10;
    e[150] = 1.1; // 9 % above the largest nominal error (1): below p = 13 %
    // Force a low ε (single candidate z = 0.05) so both points are above it: μ + 0.05σ ≈ 1.077.
    const r = dynamicThreshold(e, { errorBuffer: 0, zMin: 0.05, zMax: 0.06, zStep: 0.01 });
    expect(r.threshold).to.be.within(1, 1.1);
    expect(r.sequences).to.deep.equal([[50, 50]]);
    expect(r.pruned).to.deep.equal([[150, 150]]);
    expect(Array.from(r.flags).reduce((a, b) => a + b, 0)).to.equal(1);
    expect(r.flags[50]).to.equal(1);
  });

  it('keeps two close maxima when a large drop follows them (marks are cleared by a later d ≥ p)', () => {
    const e = new Float64Array(200).fill(1);
    e[50] = 10;
    e[150] = 9.5; // d = 5 % < p, but 9.5 → 1 is a large drop
    const r = dynamicThreshold(e, { errorBuffer: 0, zMin: 0.05, zMax: 0.06, zStep: 0.01 });
    expect(r.sequences).to.deep.equal([[50, 50], [150, 150]]);
    expect(r.pruned).to.deep.equal([]);
  });

  it('a constant error window has no anomalies; bad options throw', () => {
    const r = dynamicThreshold(new Float64Array(10).fill(2));
    expect(r.threshold).to.equal(2);
    expect(Array.from(r.flags)).to.deep.equal(new Array(10).fill(0));
    expect(() => dynamicThreshold([1, 2], { errorBuffer: -1 })).to.throw(RangeError, 'errorBuffer');
    expect(() => dynamicThreshold([1, NaN])).to.throw(RangeError, 'dynamicThreshold(errors)');
  });
});
