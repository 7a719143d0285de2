/**
 * lib/errors.ts, as a caller meets it: the errors thrown by real calls carry the fields the README documents, so a
 * caller can decide and report by type and field, never by parsing the message.
 */
import { expect } from 'chai';
import { ArgumentError, MemoryLimitError, ModelFileError, TrainingDivergedError, isUsageError } from '../../lib/errors';
import { Detector } from '../../lib/detect/detector';
import { Sequential } from '../../lib/model/sequential';
import { lstm } from '../../lib/model/layers/recurrent';
import { dense } from '../../lib/model/layers/dense';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('lib/errors', () => {
  it('an option out of range: ArgumentError (a RangeError) with argument, expected, actual and the one message shape', () => {
    const e = thrown(() => new Detector({ window: 0 })) as ArgumentError;
    expect(e).to.be.instanceOf(ArgumentError).and.instanceOf(RangeError);
    expect(e.name).to.equal('ArgumentError');
    expect(e.argument).to.equal('Detector(window)');
    expect(e.expected).to.match(/^a positive integer/);
    expect(e.actual).to.equal('0');
    expect(e.feature).to.equal(undefined);
    expect(e.message).to.equal(`Detector(window): expected ${e.expected}, got 0`);
    expect(e.problem).to.equal(`expected ${e.expected}, got 0`);
    expect(isUsageError(e)).to.equal(true);
  });

  it('a bad column: feature (0-based) and featureProblem, the column unnamed, for a caller that names it', () => {
    const series = Array.from({ length: 200 }, (_, i) => [Math.sin(i / 5), 7]);
    const e = thrown(() => new Detector({ model: 'zscore', window: 16 }).fit(series)) as ArgumentError;
    expect(e).to.be.instanceOf(ArgumentError);
    expect(e.feature).to.equal(1);
    expect(e.featureProblem).to.match(/^is constant \(7\) on the training series/);
    expect(e.message).to.equal(`${e.argument}: feature 1 ${e.featureProblem}`);
  });

  it('ArgumentError.problem: one sentence, expected and actual left empty', () => {
    const e = ArgumentError.problem('fit(validationSplit)', '0.9 of 5 samples leaves 0 to validate', { feature: 2 });
    expect(e.message).to.equal('fit(validationSplit): 0.9 of 5 samples leaves 0 to validate');
    expect([e.expected, e.actual, e.feature]).to.deep.equal(['', '', 2]);
  });

  it('a file that cannot be loaded: ModelFileError naming the file, the field error as cause', () => {
    const notJson = thrown(() => Detector.fromJSON('{"format": "bptt-detector",', 'model.json')) as ModelFileError;
    expect(notJson).to.be.instanceOf(ModelFileError).and.instanceOf(ArgumentError);
    expect(notJson.file).to.equal('model.json');
    expect(notJson.message).to.match(/^model\.json: /);

    const m = new Sequential([lstm({ units: 2, inputShape: [3, 1] }), dense({ units: 1 })], { seed: 1 }).build();
    const doc = m.toJSON() as unknown as { layers: { config: Record<string, unknown> }[] };
    doc.layers[0].config['units'] = -2;
    const badField = thrown(() => Sequential.fromJSON(doc, 'm.bptt.json')) as ModelFileError;
    expect(badField).to.be.instanceOf(ModelFileError);
    expect(badField.file).to.equal('m.bptt.json');
    const cause = (badField as { cause?: unknown }).cause as ArgumentError;
    expect(cause).to.be.instanceOf(ArgumentError);
    expect(cause.argument).to.match(/units/);
    expect([badField.expected, badField.actual]).to.deep.equal([cause.expected, cause.actual]);
    expect(badField.message).to.equal(`m.bptt.json: ${cause.message}`);
  });

  it('too large: MemoryLimitError with the bytes and the limit; diverged training: TrainingDivergedError', () => {
    const big = thrown(() => new Sequential([lstm({ units: 1e6, inputShape: [4, 1] })]).build()) as MemoryLimitError;
    expect(big).to.be.instanceOf(MemoryLimitError).and.instanceOf(ArgumentError);
    expect(big.bytes).to.be.greaterThan(big.limit);
    expect(big.limitName).to.be.oneOf(['MAX_ARRAY_BYTES', 'MAX_ARENA_BYTES', 'total memory']);

    const m = new Sequential([dense({ units: 1, inputShape: [1] })], { seed: 1, dtype: 'float64' });
    const x = { data: Float64Array.of(1e200, -1e200), shape: [2, 1] };
    const d = thrown(() => m.fit(x, x, { epochs: 1, optimizer: { name: 'sgd', learningRate: 1e10 } }));
    expect(d).to.be.instanceOf(TrainingDivergedError);
    expect(isUsageError(d)).to.equal(true);
    expect(isUsageError(new TypeError('x'))).to.equal(false);
  });
});
