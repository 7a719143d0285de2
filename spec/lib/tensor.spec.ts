import { expect } from 'chai';
import ndarray from 'ndarray';
import { ArgumentError } from '../../lib/errors';
import { assertFiniteArray, fillMissing, readSeries, shapeString, toNdarray, toTensor } from '../../lib/tensor';

/** [N, T, D] windows with value n*100 + t*10 + d, so every element says where it came from. */
function windows(N: number, T: number, D: number): number[][][] {
  return Array.from({ length: N }, (_, n) =>
    Array.from({ length: T }, (_, t) => Array.from({ length: D }, (_, d) => n * 100 + t * 10 + d)),
  );
}

function flat(N: number, T: number, D: number): number[] {
  return windows(N, T, D).flat(2);
}

describe('lib/tensor', () => {
  describe('shapeString', () => {
    it('writes null as N', () => {
      expect(shapeString([null, 32, 1])).to.equal('[N, 32, 1]');
      expect(shapeString([])).to.equal('[]');
      expect(shapeString([7])).to.equal('[7]');
    });
  });

  describe('toTensor: input kinds', () => {
    it('a number is a rank-0 tensor', () => {
      const t = toTensor(2.5, 'f(a)');
      expect(t.shape).to.deep.equal([]);
      expect(Array.from(t.data)).to.deep.equal([2.5]);
    });

    it('nested arrays: shape inferred, row-major, float32 by default and float64 on request', () => {
      const t = toTensor(windows(2, 3, 4), 'fit(x)', { shape: [null, 3, 4] });
      expect(t.shape).to.deep.equal([2, 3, 4]);
      expect(t.data).to.be.instanceOf(Float32Array);
      expect(Array.from(t.data)).to.deep.equal(flat(2, 3, 4));
      const t64 = toTensor([[0.1, 0.2]], 'fit(x)', { dtype: 'float64' });
      expect(t64.data).to.be.instanceOf(Float64Array);
      expect(Array.from(t64.data)).to.deep.equal([0.1, 0.2]);
      expect(toTensor([1, 2, 3], 'y').shape).to.deep.equal([3]);
    });

    it('an array of typed arrays as the innermost rows', () => {
      const t = toTensor([Float64Array.of(1, 2), Float32Array.of(3, 4)], 'fit(x)');
      expect(t.shape).to.deep.equal([2, 2]);
      expect(Array.from(t.data)).to.deep.equal([1, 2, 3, 4]);
    });

    it('a plain typed array is rank 1', () => {
      const t = toTensor(Float64Array.of(1, 2, 3), 'detect(series)', { rank: 1 });
      expect(t.shape).to.deep.equal([3]);
      expect(Array.from(t.data)).to.deep.equal([1, 2, 3]);
    });

    it('{data, shape} with a typed array or a number array', () => {
      const t = toTensor({ data: Float64Array.from(flat(2, 3, 1)), shape: [2, 3, 1] }, 'fit(x)');
      expect(t.shape).to.deep.equal([2, 3, 1]);
      expect(Array.from(t.data)).to.deep.equal(flat(2, 3, 1));
      const u = toTensor({ data: [1, 2, 3, 4, 5, 6], shape: [3, 2] }, 'fit(y)', { dtype: 'float64' });
      expect(u.data).to.be.instanceOf(Float64Array);
      expect(u.shape).to.deep.equal([3, 2]);
    });

    it('the result never shares memory with the input', () => {
      const src = Float32Array.of(1, 2, 3, 4);
      const t = toTensor({ data: src, shape: [2, 2] }, 'fit(x)');
      t.data[0] = 99;
      expect(src[0]).to.equal(1);
      const nd = ndarray(Float32Array.of(1, 2, 3, 4), [2, 2]);
      toTensor(nd, 'fit(x)').data[0] = 99;
      expect(nd.get(0, 0)).to.equal(1);
    });

    it("share: a {data, shape} of the tensor's own dtype is read in place, and still checked; any other is copied", () => {
      const f32 = Float32Array.of(1, 2, 3, 4);
      expect(toTensor({ data: f32, shape: [2, 2] }, 'fit(x)', { share: true }).data).to.equal(f32);
      const f64 = Float64Array.of(1, 2, 3, 4);
      expect(toTensor({ data: f64, shape: [2, 2] }, 'fit(x)', { dtype: 'float64', share: true }).data).to.equal(f64);
      const converted = toTensor({ data: f64, shape: [2, 2] }, 'fit(x)', { share: true });
      expect(converted.data).to.be.instanceOf(Float32Array);
      expect(Array.from(converted.data)).to.deep.equal([1, 2, 3, 4]);
      expect(() => toTensor({ data: Float32Array.of(1, NaN), shape: [2] }, 'fit(x)', { share: true })).to.throw(
        ArgumentError,
        'fit(x): non-finite value NaN at index [1]',
      );
      expect(() => toTensor({ data: f32, shape: [3] }, 'fit(x)', { share: true })).to.throw(
        ArgumentError,
        /4 elements/,
      );
    });

    it('a contiguous ndarray', () => {
      const nd = ndarray(Float64Array.from(flat(2, 3, 4)), [2, 3, 4]);
      const t = toTensor(nd, 'fit(x)', { shape: [null, 3, 4] });
      expect(t.shape).to.deep.equal([2, 3, 4]);
      expect(Array.from(t.data)).to.deep.equal(flat(2, 3, 4));
    });

    it('a transposed ndarray (non-trivial strides) is copied in its logical row-major order', () => {
      // base [3, 4] = [[0,1,2,3],[4,5,6,7],[8,9,10,11]]; its transpose is [4, 3] with strides [1, 4]
      const base = ndarray(
        Float32Array.from({ length: 12 }, (_, i) => i),
        [3, 4],
      );
      const tr = base.transpose(1, 0);
      expect(tr.stride).to.deep.equal([1, 4]);
      const t = toTensor(tr, 'fit(x)');
      expect(t.shape).to.deep.equal([4, 3]);
      expect(Array.from(t.data)).to.deep.equal([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    });

    it('an ndarray view with an offset, a negative step and a picked axis', () => {
      const base = ndarray(Float64Array.from(flat(3, 4, 2)), [3, 4, 2]);
      const view = base.hi(3, 3, 2).lo(1, 0, 0).step(1, -1, 1).pick(null, null, 1); // [2, 3]: n = 1..2, t = 2,1,0, d = 1
      expect(view.offset).to.be.greaterThan(0);
      const t = toTensor(view, 'fit(x)');
      expect(t.shape).to.deep.equal([2, 3]);
      expect(Array.from(t.data)).to.deep.equal([121, 111, 101, 221, 211, 201]);
    });

    it('a sliced ndarray view over a typed array goes through ndarray-ops and checks its extent', () => {
      const base = ndarray(
        Float32Array.from({ length: 24 }, (_, i) => i),
        [4, 6],
      );
      const view = base.hi(3, 5).lo(1, 2).step(1, 2); // rows 1..2, columns 2 and 4: [[8, 10], [14, 16]]
      expect(Array.from(toTensor(view, 'fit(x)').data)).to.deep.equal([8, 10, 14, 16]);
      const t = toTensor(base.transpose(1, 0).hi(2, 4), 'fit(x)', { dtype: 'float64' }); // [2, 4] of the transpose
      expect(t.shape).to.deep.equal([2, 4]);
      expect(Array.from(t.data)).to.deep.equal([0, 6, 12, 18, 1, 7, 13, 19]);
      const outside = { data: Float32Array.of(1, 2, 3), shape: [2, 2], stride: [2, 1], offset: 0 };
      expect(() => toTensor(outside, 'fit(x)')).to.throw(
        ArgumentError,
        'fit(x): ndarray view reaches elements 0 to 3 of data with 3 elements',
      );
    });

    it('an ndarray over a plain array', () => {
      const t = toTensor(ndarray([1, 2, 3, 4, 5, 6], [2, 3]).transpose(1, 0), 'fit(x)');
      expect(Array.from(t.data)).to.deep.equal([1, 4, 2, 5, 3, 6]);
    });

    it('toNdarray wraps the same data with the same shape', () => {
      const t = toTensor(windows(2, 3, 1), 'fit(x)');
      const nd = toNdarray(t);
      expect(nd.data).to.equal(t.data);
      expect(nd.shape).to.deep.equal([2, 3, 1]);
      expect(nd.get(1, 2, 0)).to.equal(120);
    });
  });

  describe('toTensor: errors name the argument and say expected vs got', () => {
    it('wrong shape', () => {
      expect(() => toTensor(windows(4, 30, 1), 'fit(x)', { shape: [null, 32, 1] })).to.throw(
        ArgumentError,
        'fit(x): expected shape [N, 32, 1], got [N, 30, 1]',
      );
      expect(() => toTensor(windows(4, 32, 1)[0], 'fit(x)', { shape: [null, 32, 1] })).to.throw(
        ArgumentError,
        'fit(x): expected shape [N, 32, 1], got [32, 1]',
      );
      expect(() => toTensor({ data: new Float32Array(6), shape: [2, 3] }, 'fit(y)', { shape: [2, 2] })).to.throw(
        ArgumentError,
        'fit(y): expected shape [2, 2], got [2, 3]',
      );
      expect(() => toTensor(Float32Array.of(1, 2), 'fit(x)', { shape: [null, 2, 1] })).to.throw(
        ArgumentError,
        'fit(x): expected shape [N, 2, 1], got [2]',
      );
    });

    it('wrong rank', () => {
      expect(() => toTensor([[1, 2]], 'fit(x)', { rank: 3 })).to.throw(
        ArgumentError,
        'fit(x): expected a rank-3 input, got shape [1, 2]',
      );
    });

    it('ragged arrays name the offending index', () => {
      const x = windows(5, 32, 1);
      x[3] = x[3].slice(0, 30);
      expect(() => toTensor(x, 'fit(x)')).to.throw(
        ArgumentError,
        'fit(x): ragged array at x[3]: expected length 32, got 30',
      );
      expect(() =>
        toTensor(
          [
            [[1], [2]],
            [[3], [4, 5]],
          ],
          'fit(x)',
        ),
      ).to.throw(ArgumentError, 'fit(x): ragged array at x[1][1]: expected length 1, got 2');
      expect(() => toTensor([[1, 2], 3], 'y')).to.throw(
        ArgumentError,
        'y: ragged array at y[1]: expected an array of length 2, got the number 3',
      );
      expect(() => toTensor([[1, [2]]], 'y')).to.throw(
        ArgumentError,
        'y: ragged array at y[0][1]: expected a number, got an array of length 1',
      );
    });

    it('non-number elements are an ArgumentError naming the index', () => {
      expect(() =>
        toTensor(
          [
            [1, 2],
            [3, '4'],
          ],
          'fit(x)',
        ),
      ).to.throw(ArgumentError, 'fit(x): expected a number at x[1][1], got string "4"');
      expect(() => toTensor([[1, 2], null], 'fit(x)')).to.throw(
        ArgumentError,
        'fit(x): expected an array at x[1], got null',
      );
      // eslint-disable-next-line no-sparse-arrays -- a hole in a user's array is the case under test
      expect(() => toTensor([1, , 3], 'fit(x)')).to.throw(
        ArgumentError,
        'fit(x): expected a number at x[1], got undefined',
      );
      expect(() => toTensor({ data: [1, 2, true, 4], shape: [2, 2] }, 'fit(x)')).to.throw(
        ArgumentError,
        'fit(x): expected a number at index [1, 0], got boolean true',
      );
      expect(() => toTensor([BigInt64Array.of(1n)], 'fit(x)')).to.throw(
        ArgumentError,
        'fit(x): expected a number at x[0][0], got bigint 1',
      );
    });

    it('unsupported inputs', () => {
      expect(() => toTensor('abc', 'fit(x)')).to.throw(
        ArgumentError,
        /^fit\(x\): expected a number, a nested number array.*got string "abc"$/,
      );
      expect(() => toTensor(undefined, 'fit(x)')).to.throw(ArgumentError, /got undefined$/);
      expect(() => toTensor({ data: 'abc', shape: [3] }, 'fit(x)')).to.throw(
        ArgumentError,
        'fit(x): data must be a typed array or a number array',
      );
      expect(() => toTensor({ data: [1, 2], shape: [2, -1] }, 'fit(x)')).to.throw(
        ArgumentError,
        'fit(x): shape must be an array of non-negative integers',
      );
    });

    it('{data, shape} whose length does not match', () => {
      expect(() => toTensor({ data: new Float32Array(10), shape: [2, 3] }, 'fit(x)')).to.throw(
        ArgumentError,
        'fit(x): data has 10 elements but shape [2, 3] needs 6',
      );
    });

    it('NaN and Infinity name their index; allowNonFinite lets them through', () => {
      const x = windows(3, 6, 1);
      x[2][5][0] = NaN;
      expect(() => toTensor(x, 'fit(x)')).to.throw(ArgumentError, 'fit(x): non-finite value NaN at index [2, 5, 0]');
      expect(Number.isNaN(toTensor(x, 'fit(x)', { allowNonFinite: true }).data[17])).to.equal(true);
      expect(() => toTensor({ data: Float64Array.of(0, 1, -Infinity, 3), shape: [2, 2] }, 'fit(y)')).to.throw(
        ArgumentError,
        'fit(y): non-finite value -Infinity at index [1, 0]',
      );
      const nd = ndarray(Float64Array.of(0, 1, 2, Infinity), [2, 2]).transpose(1, 0); // logical [[0, 2], [1, Inf]]
      expect(() => toTensor(nd, 'fit(x)')).to.throw(ArgumentError, 'fit(x): non-finite value Infinity at index [1, 1]');
      expect(() => toTensor(NaN, 'compile(lr)')).to.throw(
        ArgumentError,
        'compile(lr): non-finite value NaN at index []',
      );
    });

    it('a finite float64 that overflows float32 is reported as such', () => {
      expect(() => toTensor([1, 1e39], 'fit(x)')).to.throw(
        ArgumentError,
        'fit(x): value 1e+39 at index [1] overflows float32',
      );
      expect(toTensor([1, 1e39], 'fit(x)', { dtype: 'float64' }).data[1]).to.equal(1e39);
    });

    it('empty inputs, unless allowed', () => {
      expect(() => toTensor([], 'fit(x)', { shape: [null, 32, 1] })).to.throw(
        ArgumentError,
        'fit(x): empty input (shape [0])',
      );
      expect(() =>
        toTensor({ data: new Float32Array(0), shape: [0, 32, 1] }, 'fit(x)', { shape: [null, 32, 1] }),
      ).to.throw(ArgumentError, 'fit(x): empty input (shape [0, 32, 1])');
      expect(() => toTensor([[], []], 'fit(x)')).to.throw(ArgumentError, 'fit(x): empty input (shape [2, 0])');
      const t = toTensor({ data: new Float32Array(0), shape: [0, 32, 1] }, 'fit(x)', {
        shape: [null, 32, 1],
        allowEmpty: true,
      });
      expect(t.shape).to.deep.equal([0, 32, 1]);
      expect(toTensor(ndarray(new Float64Array(0), [0, 3]), 'fit(x)', { allowEmpty: true }).shape).to.deep.equal([
        0, 3,
      ]);
    });

    it('checks run structure first, then emptiness, then shape, then values', () => {
      const x = windows(2, 4, 1);
      x[0][0][0] = NaN;
      expect(() => toTensor(x, 'fit(x)', { shape: [null, 5, 1] })).to.throw(
        ArgumentError,
        'expected shape [N, 5, 1], got [N, 4, 1]',
      );
      x[1].pop();
      expect(() => toTensor(x, 'fit(x)', { shape: [null, 5, 1] })).to.throw(ArgumentError, 'ragged array at x[1]');
    });

    it('rejects contradictory options', () => {
      expect(() => toTensor([1], 'f(x)', { rank: 2, shape: [null] })).to.throw(
        ArgumentError,
        'toTensor: rank 2 contradicts shape [N]',
      );
      expect(() => toTensor([1], 'f(x)', { shape: [-1] })).to.throw(ArgumentError, 'toTensor: shape entries');
    });
  });

  describe("readSeries and fillMissing: the detector's door", () => {
    it('reads every input kind into [n, F] row-major float64 with missing values as NaN', () => {
      const want = [1, 2, NaN, 4, 5, 6];
      const kinds: unknown[] = [
        [
          [1, 2],
          [null, 4],
          [5, 6],
        ],
        [Float64Array.of(1, 2), [undefined, 4], Float32Array.of(5, 6)],
        { data: [1, 2, NaN, 4, 5, 6], shape: [3, 2] },
        ndarray([1, 2, null, 4, 5, 6], [3, 2]),
        ndarray(Float32Array.of(1, NaN, 5, 2, 4, 6), [2, 3]).transpose(1, 0),
      ];
      for (const x of kinds) {
        const s = readSeries(x, 'fit(series)');
        expect([s.n, s.F]).to.deep.equal([3, 2]);
        expect(s.data).to.be.instanceOf(Float64Array);
        expect(Array.from(s.data)).to.deep.equal(want);
      }
      const u = readSeries([3, null, 5], 'fit(series)');
      expect([u.n, u.F, ...Array.from(u.data)]).to.deep.equal([3, 1, 3, NaN, 5]);
    });

    it('a row-major Float64Array is read in place; fillMissing copies it before filling', () => {
      const data = Float64Array.of(1, 10, NaN, 20, 3, 30);
      const s = readSeries({ data, shape: [3, 2] }, 'fit(series)');
      expect(s.data.buffer).to.equal(data.buffer);
      const view = readSeries(ndarray(data, [2, 2], [2, 1], 2), 'fit(series)'); // rows 1..2
      expect(view.data.buffer).to.equal(data.buffer);
      expect(Array.from(view.data)).to.deep.equal([NaN, 20, 3, 30]);
      expect(readSeries(data, 'x').data).to.equal(data);
      const r = fillMissing(s);
      expect(r).to.deep.equal({ filled: 1, perFeature: [1, 0] });
      expect(Array.from(s.data)).to.deep.equal([1, 10, 2, 20, 3, 30]);
      expect(Number.isNaN(data[2])).to.equal(true); // the caller's array is unchanged
      const strided = readSeries(ndarray(data, [3, 2]).transpose(1, 0), 'x'); // column-major: copied
      expect(strided.data.buffer).not.to.equal(data.buffer);
    });

    it('errors name the argument, the index and the feature', () => {
      const err = (f: () => unknown): ArgumentError => {
        try {
          f();
        } catch (e) {
          expect(e).to.be.instanceOf(ArgumentError);
          return e as ArgumentError;
        }
        throw new Error('expected an ArgumentError');
      };
      const none = err(() =>
        readSeries(
          [
            [1, NaN],
            [2, null],
          ],
          'fit(series)',
        ),
      );
      expect(none.message).to.equal('fit(series): feature 1 has no values (all 2 missing)');
      expect(none.feature).to.equal(1);
      expect(none.featureProblem).to.equal('has no values (all 2 missing)');
      const inf = err(() => readSeries({ data: Float64Array.of(1, 2, 3, -Infinity), shape: [2, 2] }, 'detect(series)'));
      expect(inf.message).to.match(/^detect\(series\)\[1\]\[1\]: infinite value -Infinity/);
      expect(inf.feature).to.equal(1);
      expect(err(() => readSeries([], 'fit(series)')).message).to.equal('fit(series): empty series');
      expect(err(() => readSeries([[], []], 'fit(series)')).message).to.equal(
        'fit(series): rows have no features (series[0] is empty)',
      );
      expect(err(() => readSeries([[1, 2], [3]], 'fit(series)')).message).to.equal(
        'fit(series): ragged array at series[1]: expected length 2, got 1',
      );
      expect(err(() => readSeries([1, 'a'], 'fit(series)')).message).to.equal(
        'fit(series): expected a number at series[1], got string "a"',
      );
      expect(err(() => readSeries(5, 'fit(series)')).message).to.match(
        /^fit\(series\): expected number\[\], number\[\]\[\].*got number 5$/,
      );
      expect(err(() => readSeries([[[1]]], 'fit(series)')).message).to.match(
        /of shape \[n\] or \[n, F\], got shape \[1, 1, 1\]$/,
      );
      expect(err(() => readSeries([], 'x')).featureProblem).to.equal(undefined);
    });
  });

  describe('assertFiniteArray', () => {
    it('passes finite arrays and names the first non-finite index', () => {
      assertFiniteArray(Float32Array.of(1, 2, 3), 'W');
      expect(() => assertFiniteArray(Float32Array.of(1, NaN, Infinity), 'W')).to.throw(
        ArgumentError,
        'W: non-finite value NaN at index [1]',
      );
      expect(() => assertFiniteArray(Float64Array.of(0, 0, 0, 0, 0, -Infinity), 'layer[0].U', [2, 3])).to.throw(
        ArgumentError,
        'layer[0].U: non-finite value -Infinity at index [1, 2]',
      );
      expect(() => assertFiniteArray(new Float32Array(5), 'W', [2, 3])).to.throw(
        ArgumentError,
        'W: shape [2, 3] needs 6 elements, got 5',
      );
    });
  });
});
