import { expect } from 'chai';
import { Detector, type DetectorModel } from '../../../lib/index';
import { makeRng } from '../../helpers/rng';

function seasonal(n: number, seed: string): number[] {
  const rng = makeRng(seed);
  const x = Array.from({ length: n }, (_, t) => Math.sin((2 * Math.PI * t) / 20) + 0.1 * (rng() - 0.5));
  x[300] = x[300] + 2;
  return x;
}

describe('Detector with worker threads', () => {
  const x = seasonal(700, 'detector-workers');
  const train = x.slice(0, 250);

  // 700 points give 669–670 windows: two scoring chunks of up to 512 windows, each split across the workers.
  for (const model of ['lstm-ae', 'lstm-forecast', 'dense-ae'] as DetectorModel[]) {
    it(`${model}: scores and flags with 2 and 3 workers are bit-identical to 1 worker`, () => {
      const d = new Detector({ model, window: 16, hidden: 6, epochs: 2, seed: 1, workers: 1 }).fit(train);
      const one = d.detect(x, { workers: 1 });
      for (const workers of [3, 2]) {
        const got = d.detect(x, { workers });
        expect(Array.from(got.scores)).to.deep.equal(Array.from(one.scores));
        expect(Array.from(got.contributions)).to.deep.equal(Array.from(one.contributions));
        expect(Array.from(got.flags)).to.deep.equal(Array.from(one.flags));
        expect(Array.from(d.score(x, { workers }).scores)).to.deep.equal(Array.from(one.scores));
      }
      d.dispose();
    });
  }

  it('trains with 2 workers deterministically (two fits, same scores)', () => {
    const a = new Detector({ window: 16, hidden: 6, epochs: 2, seed: 3, workers: 2 }).fit(train);
    const b = new Detector({ window: 16, hidden: 6, epochs: 2, seed: 3, workers: 2 }).fit(train);
    expect(Array.from(b.score(x).scores)).to.deep.equal(Array.from(a.score(x).scores));
    a.dispose();
    b.dispose();
  });

  it('rejects bad workers values with the argument named', () => {
    expect(() => new Detector({ workers: 0 })).to.throw(
      RangeError,
      /Detector\(workers\): expected a positive integer \(at most 64\) or 'auto', got 0/,
    );
    expect(() => new Detector({ workers: 'many' as unknown as number })).to.throw(
      RangeError,
      /Detector\(workers\).*got "many"/,
    );
    const d = new Detector({ model: 'zscore', window: 16 }).fit(train);
    expect(() => d.score(x, { workers: -2 })).to.throw(RangeError, /score\(workers\)/);
    expect(() => d.detect(x, { workers: 2.5 })).to.throw(RangeError, /detect\(workers\)/);
  });
});
