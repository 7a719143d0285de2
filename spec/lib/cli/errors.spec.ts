/**
 * The command line sorts errors by type: a UserError or one of the library's own errors (ArgumentError and its
 * ModelFileError and MemoryLimitError, TrainingDivergedError) is the user's mistake, exit 1 with `bptt: <message>`; an
 * ArgumentError about one feature names the CSV column; anything else is a bug, exit 2 with the stack.
 */
import { expect } from 'chai';
import { reportError } from '../../../lib/cli/main';
import { toUserError, userCall, UserError, type ColumnMap } from '../../../lib/cli/errors';
import type { Context } from '../../../lib/cli/context';
import { ArgumentError, MemoryLimitError, ModelFileError, TrainingDivergedError } from '../../../lib/errors';
import { featureError, readSeries } from '../../../lib/tensor';

function capture(): { ctx: Context; err: () => string } {
  let err = '';
  const ctx: Context = {
    out: () => undefined,
    err: (s) => {
      err += s;
    },
    errSink: { isTTY: false, columns: 80, write: () => true },
    quiet: true,
  };
  return { ctx, err: () => err };
}

const columns: ColumnMap = { file: 'data.csv', names: ['cpu', 'mem'], numbers: [3, 5] };

describe('lib/cli/errors: exit codes by type', () => {
  it("a library ArgumentError with a feature names the file's column, exit 1", () => {
    const e = featureError(
      'fit(series)',
      1,
      'is constant (7) on the training series',
      'values that vary',
      'the constant 7',
    );
    const user = toUserError(e, 'training on the first 90 rows: ', columns);
    expect(user).to.be.instanceOf(UserError);
    expect((user as UserError).message).to.equal(
      'training on the first 90 rows: data.csv column 5 ("mem") is constant (7) on the training series',
    );
    const c = capture();
    expect(reportError(c.ctx, user)).to.equal(1);
    expect(c.err()).to.equal(
      'bptt: training on the first 90 rows: data.csv column 5 ("mem") is constant (7) on the training series\n',
    );
  });

  it('the feature of an error from the real door (readSeries) becomes the column name', () => {
    expect(() =>
      userCall('', () => readSeries({ data: Float64Array.of(1, NaN, 2, NaN), shape: [2, 2] }, 'fit(series)'), columns),
    ).to.throw(UserError, /^data\.csv column 5 \("mem"\) has no values \(all 2 missing\)$/);
  });

  it('a feature error phrased another way keeps its whole message after the column', () => {
    const e = new ArgumentError('detect(series)', 'a number', '"x"', { feature: 0 });
    expect((toUserError(e, '', columns) as Error).message).to.equal(
      'data.csv column 3 ("cpu"): detect(series): expected a number, got "x"',
    );
  });

  it('every library usage error is exit 1 without a stack; a feature beyond the columns is left as the library says it', () => {
    const errors: Error[] = [
      new ArgumentError('Detector(window)', 'a positive integer', '0'),
      new ModelFileError('--model: m.json', 'not a bptt detector'),
      new MemoryLimitError('Sequential.build', 'needs 9 GiB', 9e9, 2e9, 'MAX_ARRAY_BYTES'),
      new TrainingDivergedError('fit: loss became NaN at epoch 3'),
      new UserError('data.csv line 4, column 2 ("cpu"): "oops" is not a number'),
      featureError('fit(series)', 7, 'is constant (1)', 'values that vary', '1'),
    ];
    for (const e of errors) {
      const c = capture();
      expect(reportError(c.ctx, toUserError(e, '', columns)), e.name).to.equal(1);
      expect(c.err()).to.equal(`bptt: ${e.message}\n`);
    }
  });

  it('anything else is an internal error: exit 2 with the stack, whatever its message says', () => {
    for (const e of [
      new Error('fit(series): looks like a usage error'),
      new TypeError('x is not a function'),
      new RangeError('Invalid array length'),
    ]) {
      expect(toUserError(e, 'ctx: ', columns)).to.equal(e);
      expect(() =>
        userCall(
          'ctx: ',
          () => {
            throw e;
          },
          columns,
        ),
      ).to.throw(e.constructor as ErrorConstructor, e.message);
      const c = capture();
      expect(reportError(c.ctx, e)).to.equal(2);
      expect(c.err()).to.contain(`bptt: internal error: ${e.message}\n`);
      expect(c.err()).to.match(/\n\s+at /);
      expect(c.err()).to.contain('This is a bug in bptt');
    }
  });
});
