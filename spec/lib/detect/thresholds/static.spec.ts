import { expect } from 'chai';
import { ArgumentError } from '../../../../lib/errors';
import {
  applyThreshold,
  contaminationThreshold,
  fixedThreshold,
  iqrThreshold,
  quantile,
  quantileThreshold,
  sigmaThreshold,
} from '../../../../lib/detect/thresholds/static';

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
    expect(() => quantile([1, 2], 1.5)).to.throw(ArgumentError, 'quantile(p)');
    expect(() => quantile([], 0.5)).to.throw(ArgumentError, 'quantile(x)');
    expect(() => quantile([1, NaN], 0.5)).to.throw(ArgumentError, 'index 1');
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
    expect(() => contaminationThreshold(s, 0.6)).to.throw(ArgumentError, 'contamination');
    expect(() => contaminationThreshold(s, 0)).to.throw(ArgumentError, 'contamination');
  });

  it('fixedThreshold and applyThreshold (strict >)', () => {
    expect(fixedThreshold(0.5)).to.equal(0.5);
    expect(() => fixedThreshold(NaN)).to.throw(ArgumentError, 'fixedThreshold(value)');
    expect(Array.from(applyThreshold([0.1, 0.5, 0.9], 0.5))).to.deep.equal([0, 0, 1]);
    expect(() => applyThreshold([0.1, NaN], 0.5)).to.throw(ArgumentError, 'index 1');
  });
});
