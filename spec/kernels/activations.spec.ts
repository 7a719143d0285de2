import { expect } from 'chai';
import {
  Act,
  activate,
  activateBackward,
  activateScalar,
  derivativeFromOutput,
  activationCode,
  sigmoid,
} from '../../kernels/activations';

const ALL: [string, Act][] = [
  ['tanh', Act.Tanh],
  ['sigmoid', Act.Sigmoid],
  ['hardSigmoid', Act.HardSigmoid],
  ['relu', Act.Relu],
  ['linear', Act.Linear],
];

/** Independent definitions, written from the formulas (TensorFlow.js hardSigmoid: clip(0.2·x + 0.5, 0, 1)). */
const REF: Record<string, (z: number) => number> = {
  tanh: (z) => (Math.exp(z) - Math.exp(-z)) / (Math.exp(z) + Math.exp(-z)),
  sigmoid: (z) => 1 / (1 + Math.exp(-z)),
  hardSigmoid: (z) => Math.min(1, Math.max(0, 0.2 * z + 0.5)),
  relu: (z) => (z > 0 ? z : 0),
  linear: (z) => z,
};

describe('kernels/activations', () => {
  const zs = [-7.5, -3, -1.25, -0.3, 0.01, 0.4, 1.1, 2.4, 3.3]; // off every kink (0 for relu, ±2.5 for hardSigmoid)

  for (const [name, code] of ALL) {
    it(`${name}: forward matches its formula and the derivative from the output matches central differences`, () => {
      const y = Float64Array.from(zs);
      activate(code, y, 0, y.length);
      zs.forEach((z, i) => {
        expect(Math.abs(y[i] - REF[name](z)), `${name}(${z})`).to.be.at.most(1e-15);
        expect(activateScalar(code, z)).to.equal(y[i]);
        const h = 1e-6;
        const numeric = (REF[name](z + h) - REF[name](z - h)) / (2 * h);
        const d = derivativeFromOutput(code, y[i]);
        expect(Math.abs(d - numeric), `${name}'(${z})`).to.be.at.most(1e-8);
      });
      const dz = Float64Array.from(zs.map((_, i) => i + 0.5));
      activateBackward(code, dz, 0, y, 0, y.length);
      zs.forEach((_, i) => expect(dz[i]).to.equal((i + 0.5) * derivativeFromOutput(code, y[i])));
    });
  }

  it('works on a run inside a bigger array and leaves the rest alone', () => {
    const y = Float32Array.from([5, -1, 0.5, 2, 9]);
    activate(Act.Relu, y, 1, 2);
    expect(Array.from(y)).to.deep.equal([5, 0, 0.5, 2, 9]);
  });

  it('sigmoid is stable at large |z|', () => {
    expect(sigmoid(-800)).to.equal(0);
    expect(sigmoid(800)).to.equal(1);
    expect(Math.abs(sigmoid(-30) - Math.exp(-30) / (1 + Math.exp(-30)))).to.be.at.most(1e-25);
  });

  it('accepts Keras snake_case names and rejects unknown ones by argument name', () => {
    expect(activationCode('hard_sigmoid')).to.equal(Act.HardSigmoid);
    expect(activationCode('hardSigmoid')).to.equal(Act.HardSigmoid);
    expect(() => activationCode('softmax', 'recurrentActivation')).to.throw(
      RangeError,
      /recurrentActivation: expected one of .* got "softmax"/,
    );
    expect(() => activationCode('toString')).to.throw(RangeError);
  });

  it('throws a RangeError when the run does not fit the array', () => {
    expect(() => activate(Act.Tanh, new Float64Array(3), 2, 2)).to.throw(RangeError, /activate\(y\)/);
    expect(() => activateBackward(Act.Tanh, new Float64Array(4), 0, new Float64Array(3), 0, 4)).to.throw(
      RangeError,
      /activateBackward\(y\)/,
    );
  });
});
