import { expect } from 'chai';
import { ArgumentError } from '../../../../lib/errors';
import { dynamicThreshold, Ewma, ewma } from '../../../../lib/detect/thresholds/telemanom';
import { makeRng } from '../../../helpers/rng';

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
    expect(() => ewma([1], 0.5)).to.throw(ArgumentError, 'ewma(span)');
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
    expect(r.sequences).to.deep.equal([
      [50, 50],
      [150, 150],
    ]);
    expect(r.pruned).to.deep.equal([]);
  });

  it('a constant error window has no anomalies; bad options throw', () => {
    const r = dynamicThreshold(new Float64Array(10).fill(2));
    expect(r.threshold).to.equal(2);
    expect(Array.from(r.flags)).to.deep.equal(new Array(10).fill(0));
    expect(() => dynamicThreshold([1, 2], { errorBuffer: -1 })).to.throw(ArgumentError, 'errorBuffer');
    expect(() => dynamicThreshold([1, NaN])).to.throw(ArgumentError, 'dynamicThreshold(errors)');
  });
});
