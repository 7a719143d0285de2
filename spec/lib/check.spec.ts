/**
 * Options are checked, not ignored: an unknown or misspelt key is an error that names it and lists the known keys,
 * and each value has its type checked (a boolean must be a boolean), in every public constructor and call.
 */
import { expect } from 'chai';
import {
  Detector,
  Sequential,
  lstm,
  gru,
  simpleRNN,
  dense,
  repeatVector,
  dropout,
  reshape,
  flatten,
  timeDistributed,
  bidirectional,
  lstmAutoencoder,
  forecaster,
  denseAutoencoder,
  sequenceClassifier,
} from '../../lib/index';
import { ArgumentError } from '../../lib/errors';
import { checkKeys, describeValue } from '../../lib/check';
import { Optimizer } from '../../lib/model/optimizers';
import { parseThreshold } from '../../lib/detect/threshold-spec';

type AnyOpts = Record<string, unknown>;
const loose = <T>(o: AnyOpts): T => o as unknown as T;

describe('lib/check: options are validated, never silently ignored', () => {
  it('checkKeys names the unknown key, suggests a near miss, and lists the known ones', () => {
    expect(() => checkKeys({ windw: 1 }, ['window', 'model'], 'f')).to.throw(
      ArgumentError,
      /^f: unknown option "windw" \(did you mean 'window'\?\); known options: window, model$/,
    );
    expect(() => checkKeys({ zzzzzz: 1 }, ['window'], 'f')).to.throw(
      ArgumentError,
      /^f: unknown option "zzzzzz"; known options: window$/,
    );
    expect(() => checkKeys(null, ['a'], 'f')).to.throw(ArgumentError, /f: expected an options object, got null/);
    expect(() => checkKeys([1], ['a'], 'f')).to.throw(ArgumentError, /f: expected an options object, got \[1\]/);
    expect(() => checkKeys({ a: 1 }, ['a'], 'f')).not.to.throw();
  });

  it('describeValue quotes and cuts strings, and never calls into the value', () => {
    expect(describeValue('a'.repeat(100))).to.equal(JSON.stringify(`${'a'.repeat(57)}...`));
    let called = false;
    const sneaky = {
      toString: () => {
        called = true;
        return 'x';
      },
    };
    expect(describeValue(sneaky)).to.equal('an object');
    expect(called).to.equal(false);
  });

  it('Detector rejects unknown and misspelt options', () => {
    expect(() => new Detector(loose({ windw: 64 }))).to.throw(
      ArgumentError,
      /Detector: unknown option "windw" \(did you mean 'window'\?\)/,
    );
    expect(() => new Detector(loose({ causl: false }))).to.throw(ArgumentError, /Detector: unknown option "causl"/);
    expect(() => new Detector(loose({ model: 'zscore', treshold: 'spot' }))).to.throw(
      ArgumentError,
      /did you mean 'threshold'/,
    );
  });

  it('Detector checks each value type', () => {
    expect(() => new Detector(loose({ window: '32' }))).to.throw(
      ArgumentError,
      /Detector\(window\): expected a positive integer, got "32"/,
    );
    expect(() => new Detector(loose({ hidden: [8, '4'] }))).to.throw(ArgumentError, /Detector\(hidden\)/);
    expect(() => new Detector(loose({ learningRate: '0.1' }))).to.throw(ArgumentError, /Detector\(learningRate\)/);
    expect(() => new Detector(loose({ onEpochEnd: 'log' }))).to.throw(
      ArgumentError,
      /Detector\(onEpochEnd\): expected a function/,
    );
    expect(() => new Detector(loose({ threshold: { kind: 'spot', vlaue: 0.01 } }))).to.throw(
      ArgumentError,
      /did you mean 'value'/,
    );
  });

  it('Detector rejects epochs 0 for a network (it would score with random weights)', () => {
    expect(() => new Detector({ model: 'lstm-ae', epochs: 0 })).to.throw(
      ArgumentError,
      /Detector\(epochs\): expected a positive integer, got 0; a network that is never trained/,
    );
    expect(() => new Detector({ epochs: -1 })).to.throw(ArgumentError, /Detector\(epochs\)/);
  });

  it('Sequential, fit, predict and evaluate reject unknown options', () => {
    expect(() => new Sequential([], loose({ sed: 1 }))).to.throw(
      ArgumentError,
      /Sequential: unknown option "sed" \(did you mean 'seed'\?\)/,
    );
    const m = new Sequential([dense({ units: 1, inputShape: [2] })], { seed: 1 });
    const x = [
        [1, 2],
        [3, 4],
      ],
      y = [[1], [2]];
    expect(() => m.fit(x, y, loose({ epoch: 2 }))).to.throw(
      ArgumentError,
      /fit: unknown option "epoch" \(did you mean 'epochs'\?\)/,
    );
    expect(() => m.fit(x, y, loose({ earlyStopping: { patiense: 2 } }))).to.throw(
      ArgumentError,
      /fit\(earlyStopping\): unknown option "patiense"/,
    );
    expect(() => m.fit(x, y, loose({ shuffle: 'no' }))).to.throw(
      ArgumentError,
      /fit\(shuffle\): expected true or false/,
    );
    expect(() => m.fit(x, y, loose({ onEpochEnd: 1 }))).to.throw(
      ArgumentError,
      /fit\(onEpochEnd\): expected a function/,
    );
    expect(() => m.predict(x, loose({ batch: 2 }))).to.throw(ArgumentError, /predict: unknown option "batch"/);
    expect(() => m.evaluate(x, y, loose({ los: 'mse' }))).to.throw(ArgumentError, /evaluate: unknown option "los"/);
    expect(m.fit(x, y, { epochs: 1 }).loss).to.have.length(1);
  });

  it('layers reject unknown options and values of the wrong type', () => {
    expect(() => lstm(loose({ units: 4, returnSequence: true }))).to.throw(
      ArgumentError,
      /lstm: unknown option "returnSequence" \(did you mean 'returnSequences'\?\)/,
    );
    expect(() => lstm(loose({ units: 4, goBackwards: 'false' }))).to.throw(
      ArgumentError,
      /lstm\(goBackwards\): expected true or false, got "false"/,
    );
    expect(() => gru(loose({ units: 4, resetAfter: 1 }))).to.throw(
      ArgumentError,
      /gru\(resetAfter\): expected true or false/,
    );
    expect(() => gru(loose({ units: 4, unitForgetBias: true }))).to.throw(
      ArgumentError,
      /only an LSTM has unitForgetBias/,
    );
    expect(() => simpleRNN(loose({ units: 4, activation: 1 }))).to.throw(
      ArgumentError,
      /simpleRNN\(activation\): expected a string/,
    );
    expect(() => lstm(loose({ units: 4, inputShape: [8, '1'] }))).to.throw(ArgumentError, /lstm\(inputShape\)/);
    expect(() => lstm(loose({ units: 4, name: 7 }))).to.throw(ArgumentError, /lstm\(name\): expected a string/);
    expect(() => dense(loose({ units: 1, activaton: 'relu' }))).to.throw(
      ArgumentError,
      /dense: unknown option "activaton" \(did you mean 'activation'\?\)/,
    );
    expect(() => dense(loose({ units: 1, useBias: 0 }))).to.throw(ArgumentError, /dense\(useBias\)/);
    expect(() => repeatVector(loose({ n: 2, m: 1 }))).to.throw(ArgumentError, /repeatVector: unknown option "m"/);
    expect(() => dropout(loose({ rate: 0.1, seed: 1 }))).to.throw(ArgumentError, /dropout: unknown option "seed"/);
    expect(() => dropout(loose({}))).to.throw(ArgumentError, /dropout\(rate\)/);
    expect(() => reshape(loose({ targetShape: [2], shape: [2] }))).to.throw(
      ArgumentError,
      /reshape: unknown option "shape"/,
    );
    expect(() => flatten(loose({ nme: 'f' }))).to.throw(ArgumentError, /flatten: unknown option "nme"/);
    expect(() => timeDistributed(dense({ units: 1 }), loose({ nam: 'x' }))).to.throw(
      ArgumentError,
      /timeDistributed: unknown option "nam"/,
    );
    expect(() => bidirectional(lstm({ units: 2 }), loose({ merge: 'concat' }))).to.throw(
      ArgumentError,
      /bidirectional: unknown option "merge"/,
    );
  });

  it('presets reject unknown options, including inside `recurrent`', () => {
    expect(() => lstmAutoencoder(loose({ window: 8, unit: 4 }))).to.throw(
      ArgumentError,
      /sequenceAutoencoder: unknown option "unit" \(did you mean 'units'\?\)/,
    );
    expect(() => lstmAutoencoder(loose({ window: 8, recurrent: { goBackwards: true } }))).to.throw(
      ArgumentError,
      /sequenceAutoencoder\(recurrent\): unknown option "goBackwards"/,
    );
    expect(() => forecaster(loose({ window: 8, horizn: 2 }))).to.throw(
      ArgumentError,
      /forecaster: unknown option "horizn" \(did you mean 'horizon'\?\)/,
    );
    expect(() => denseAutoencoder(loose({ window: 8, cell: 'lstm' }))).to.throw(
      ArgumentError,
      /denseAutoencoder: unknown option "cell"/,
    );
    expect(() => sequenceClassifier(loose({ window: 8, dropout: 0.1 }))).to.throw(
      ArgumentError,
      /sequenceClassifier: unknown option "dropout" \(did you mean 'dropoutRate'\?\)/,
    );
    expect(lstmAutoencoder({ window: 8, units: 4, recurrent: { activation: 'tanh' } }).layers).to.have.length(4);
  });

  it('optimizer configs and threshold objects reject unknown keys and wrong types', () => {
    expect(() => new Optimizer(loose({ name: 'adam', lr: 0.1 }))).to.throw(
      ArgumentError,
      /optimizer\(adam\): unknown option "lr"/,
    );
    expect(() => new Optimizer(loose({ name: 'sgd', beta1: 0.9 }))).to.throw(
      ArgumentError,
      /optimizer\(sgd\): unknown option "beta1"/,
    );
    expect(() => new Optimizer(loose({ name: 'adam', learningRate: '0.1' }))).to.throw(
      ArgumentError,
      /optimizer\(learningRate\)/,
    );
    expect(() => parseThreshold(loose({ kind: 'quantile', value: '0.5' }))).to.throw(
      ArgumentError,
      /threshold\.value: expected a finite number, got "0.5"/,
    );
    expect(() => parseThreshold(loose({ kind: 'spot', level: 2 }))).to.throw(ArgumentError, /threshold\.level/);
    expect(parseThreshold({ kind: 'quantile', value: 0.9 })).to.deep.equal({ kind: 'quantile', value: 0.9 });
  });
});
