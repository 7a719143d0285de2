import { expect } from 'chai';
import { dropoutMask, applyMask } from '../../kernels/dropout';
import { makeRng, uniform64 } from '../helpers/rng';

describe('kernels/dropout', () => {
  it('mask statistics: about `rate` zeros, the rest exactly 1/(1 − rate), mean ≈ 1', () => {
    const n = 100000;
    for (const rate of [0.1, 0.3, 0.5]) {
      const mask = new Float64Array(n);
      dropoutMask(mask, n, rate, makeRng(`dropout-${rate}`));
      let zeros = 0,
        sum = 0;
      const keep = 1 / (1 - rate);
      for (let i = 0; i < n; i++) {
        const v = mask[i];
        if (v === 0) zeros++;
        else expect(v).to.equal(keep);
        sum += v;
      }
      // Binomial: sd of the zero fraction is sqrt(rate(1−rate)/n) ≤ 0.0016; allow 5 sd.
      const sd = Math.sqrt((rate * (1 - rate)) / n);
      expect(zeros / n, `zero fraction at rate ${rate}`).to.be.closeTo(rate, 5 * sd);
      expect(sum / n, `mean mask at rate ${rate}`).to.be.closeTo(1, 5 * sd * keep);
    }
  });

  it('is deterministic given a seeded source, and different seeds give different masks', () => {
    const n = 1000;
    const a = new Float32Array(n),
      b = new Float32Array(n),
      c = new Float32Array(n);
    dropoutMask(a, n, 0.4, makeRng('same'));
    dropoutMask(b, n, 0.4, makeRng('same'));
    dropoutMask(c, n, 0.4, makeRng('other'));
    expect(Array.from(a)).to.deep.equal(Array.from(b));
    expect(Array.from(a)).to.not.deep.equal(Array.from(c));
  });

  it('draws one number per element, in index order: mask_i = 0 iff random_i < rate', () => {
    const n = 50,
      rate = 0.35;
    const draws = uniform64(n, makeRng('draws'), 0, 1);
    let k = 0;
    const mask = new Float64Array(n);
    dropoutMask(mask, n, rate, () => draws[k++]);
    expect(k).to.equal(n);
    for (let i = 0; i < n; i++) expect(mask[i]).to.equal(draws[i] < rate ? 0 : 1 / (1 - rate));
  });

  it('rate 0 is the identity and draws nothing', () => {
    const n = 17;
    const mask = new Float64Array(n).fill(5);
    dropoutMask(mask, n, 0, () => {
      throw new Error('rate 0 must not draw');
    });
    expect(Array.from(mask)).to.deep.equal(new Array(n).fill(1));
    const x = uniform64(n, makeRng('identity'));
    const y = new Float64Array(n);
    applyMask(y, x, mask, n);
    expect(Array.from(y)).to.deep.equal(Array.from(x));
  });

  it('applyMask multiplies elementwise (forward y = x⊙mask, backward dx = dy⊙mask), in place too', () => {
    const x = Float64Array.from([1, -2, 3, 4]),
      mask = Float64Array.from([0, 2, 2, 0]);
    const y = new Float64Array(4);
    applyMask(y, x, mask, 4);
    expect(Array.from(y)).to.deep.equal([0, -4, 6, 0]);
    applyMask(x, x, mask, 4);
    expect(Array.from(x)).to.deep.equal([0, -4, 6, 0]);
  });

  it('throws RangeError for a rate outside [0, 1) and for short buffers, naming the argument', () => {
    const m = new Float64Array(4),
      r = makeRng('x');
    for (const rate of [1, -0.1, 1.5, NaN]) {
      expect(() => dropoutMask(m, 4, rate, r)).to.throw(RangeError, /dropoutMask\(rate\)/);
    }
    expect(() => dropoutMask(m, 5, 0.5, r)).to.throw(RangeError, /dropoutMask\(mask\).*5.*got 4/);
    const s = new Float64Array(3);
    expect(() => applyMask(s, m, m, 4)).to.throw(RangeError, /applyMask\(y\).*4.*got 3/);
    expect(() => applyMask(m, s, m, 4)).to.throw(RangeError, /applyMask\(x\)/);
    expect(() => applyMask(m, m, s, 4)).to.throw(RangeError, /applyMask\(mask\)/);
    expect(() => applyMask(m, m, m, -1)).to.throw(RangeError, /applyMask: n/);
  });
});
