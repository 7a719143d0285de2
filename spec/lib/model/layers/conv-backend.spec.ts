/**
 * lib/model/layers/conv.ts on the two float32 backends: under 'wasm' Conv1D and Conv1DTranspose keep their buffers for a
 * batch size in an arena of their own and run the convolutions' products on the WebAssembly SIMD GEMM (kernels/wasm
 * through kernels/conv1d.ts's products argument); under 'js' on matmul.ts. Checked here:
 *  - forward y and every gradient (kernel, bias, input) agree with the js path within the products' rounding bound
 *    (stated at expectWithin), over padding valid/same/causal, strides, dilations, even and odd kernels, K = 1, with
 *    and without bias, linear/tanh/relu, and batch sizes 5, 1, 3, 1, 4 in turn (more than the cache holds, so arenas
 *    are rebuilt; B = 1 twice, so a cached arena is reused), for Conv1D and Conv1DTranspose;
 *  - the buffers of a batch size are made once: later steps return the same arena views, still attached;
 *  - float64 layers stay on the js products under 'wasm';
 *  - determinism: the same seed, data and options train to bit-identical weights and losses on each path, and the two
 *    paths agree after training to float32 rounding.
 * The tfjs and PyTorch parity specs (spec/lib/io/conv-parity, conv-torch) run on whichever path the suite runs on.
 */
import { expect } from 'chai';
import { type Backend, getBackend, setBackend } from '../../../../lib/backend';
import {
  Conv1D,
  Conv1DTranspose,
  type Conv1DOptions,
  conv1d,
  conv1dTranspose,
} from '../../../../lib/model/layers/conv';
import { Sequential } from '../../../../lib/model/sequential';
import { convAutoencoder } from '../../../../lib/model/presets';
import { wasmSimdAvailable } from '../../../../kernels/wasm/arena';
import { Act } from '../../../../kernels/activations';
import {
  type Conv1dGeometry,
  conv1dBackward,
  conv1dForward,
  conv1dGeometry,
  conv1dTransposeBackward,
  conv1dTransposeForward,
  conv1dTransposeLength,
} from '../../../../kernels/conv1d';
import { makeRng, uniform32 } from '../../../helpers/rng';

const CTX = { training: true, random: null };
const EPS = 2 ** -24;

/**
 * |wasm − js| ≤ 8·(n + 2)·2⁻²⁴·scale + 2⁻²³·max(1, |js|), where n is the length of the sums behind the element and scale
 * the sum of the magnitudes of their terms (computed in float64 by the reference kernels on |x|, |W|, |b|, |dy|): the
 * wasm products sum in f32 and matmul.ts in float64, which differ by at most (n + 2)·2⁻²⁴·scale (module.ts's numeric
 * contract); the factor 8 covers the activation and its derivative taken from two slightly different outputs and the
 * f32 rounding of the im2col products before col2im adds them; the second term the f32 rounding of the results. (The
 * same bound as spec/lib/model/layers/dense.spec.ts.) A wrong product is off by O(scale), far outside it.
 */
function expectWithin(label: string, got: ArrayLike<number>, want: ArrayLike<number>, n: number, scale: Float64Array) {
  expect(got.length, `${label} length`).to.equal(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i],
      w = want[i];
    const tol = 8 * (n + 2) * EPS * scale[i] + 2 * EPS * Math.max(1, Math.abs(w));
    if (!(Math.abs(g - w) <= tol)) expect.fail(`${label}[${i}]: wasm ${g}, js ${w}, tolerance ${tol}`);
  }
}

const abs64 = (a: ArrayLike<number>): Float64Array => Float64Array.from(a, Math.abs);

interface Scales {
  y: Float64Array;
  dW: Float64Array;
  db: Float64Array;
  dx: Float64Array;
}

/**
 * The scales of every sum, by the reference kernels in float64 with a linear activation on absolute values: y:
 * |b| + Σ|x|·|W| (through im2col or col2im); dW: Σ|cols|·|dy|; db: Σ|dy|; dx: Σ|dy|·|W| (through col2im or im2col).
 * |act'| ≤ 1 for linear, tanh and relu, so |dz| ≤ |dy| and these bound the terms of every path.
 */
function scales(
  transposed: boolean,
  g: Conv1dGeometry,
  N: number,
  Ci: number,
  Co: number,
  x: Float32Array,
  W: Float32Array,
  b: Float32Array,
  dy: Float32Array,
): Scales {
  const [ax, aW, ab, ady] = [x, W, b, dy].map(abs64);
  const s: Scales = {
    y: new Float64Array(dy.length),
    dW: new Float64Array(W.length),
    db: new Float64Array(Co),
    dx: new Float64Array(x.length),
  };
  const lin = Act.Linear;
  if (!transposed) {
    const cols = new Float64Array(g.To * N * g.K * Ci);
    conv1dForward(s.y, cols, ax, aW, ab, g, N, Ci, Co, lin);
    const scratch = [new Float64Array(dy.length), new Float64Array(cols.length)] as const;
    conv1dBackward(s.dW, s.db, s.dx, ady, s.y, cols, aW, g, N, Ci, Co, lin, scratch[0], scratch[1]);
  } else {
    const cols = new Float64Array(g.To * N * g.K * Co);
    conv1dTransposeForward(s.y, cols, ax, aW, ab, g, N, Ci, Co, lin);
    const scratch = [new Float64Array(dy.length), new Float64Array(cols.length)] as const;
    conv1dTransposeBackward(s.dW, s.db, s.dx, ady, s.y, ax, aW, g, N, Ci, Co, lin, scratch[0], scratch[1]);
  }
  return s;
}

type ConvLayer = Conv1D | Conv1DTranspose;

/** The layer's cached buffers (the fields the layer keeps for backward). */
interface Buffers {
  y: Float32Array;
  cols: Float32Array;
  dz: Float32Array;
  dcols: Float32Array;
  dx: Float32Array;
  xw: Float32Array;
  Ww: Float32Array;
  dWw: Float32Array;
  ops: { name: string };
}

function lastBuffers(layer: ConvLayer): Buffers {
  const buf = (layer as unknown as { lastBuf: Buffers | null }).lastBuf;
  if (buf === null) throw new Error('no buffers yet');
  return buf;
}

interface Run {
  y: Float32Array;
  dW: Float32Array;
  db: Float32Array;
  dx: Float32Array;
  ops: string;
}

function step(layer: ConvLayer, backend: Backend, x: Float32Array, dy: Float32Array, N: number): Run {
  setBackend(backend); // read when the layer makes the buffers of a new batch size
  for (const p of layer.params()) p.grad.fill(0);
  const y = Float32Array.from(layer.forward(x, N, CTX));
  const dx = Float32Array.from(layer.backward(Float32Array.from(dy), true) as Float32Array);
  const [k, b] = layer.params();
  return {
    y,
    dW: Float32Array.from(k?.grad ?? []),
    db: Float32Array.from(b?.grad ?? []),
    dx,
    ops: lastBuffers(layer).ops.name,
  };
}

interface Case {
  kind: 'conv1d' | 'conv1dTranspose';
  T: number;
  F: number;
  o: Conv1DOptions;
}

const CASES: Case[] = [
  { kind: 'conv1d', T: 9, F: 4, o: { filters: 5, kernelSize: 3, padding: 'valid' } },
  { kind: 'conv1d', T: 13, F: 3, o: { filters: 6, kernelSize: 7, strides: 2, padding: 'same' } },
  { kind: 'conv1d', T: 60, F: 8, o: { filters: 32, kernelSize: 7, strides: 2, padding: 'same' } }, // SKAB Conv-AE
  { kind: 'conv1d', T: 10, F: 2, o: { filters: 4, kernelSize: 4, dilationRate: 3, padding: 'same' } },
  { kind: 'conv1d', T: 11, F: 2, o: { filters: 4, kernelSize: 3, dilationRate: 2, padding: 'causal' } },
  { kind: 'conv1d', T: 12, F: 3, o: { filters: 3, kernelSize: 2, strides: 3, padding: 'causal', useBias: false } },
  { kind: 'conv1d', T: 17, F: 3, o: { filters: 2, kernelSize: 5, strides: 3, padding: 'valid' } },
  { kind: 'conv1d', T: 6, F: 5, o: { filters: 7, kernelSize: 1 } },
  { kind: 'conv1dTranspose', T: 8, F: 5, o: { filters: 3, kernelSize: 7, strides: 2, padding: 'same' } },
  { kind: 'conv1dTranspose', T: 15, F: 16, o: { filters: 32, kernelSize: 7, strides: 2, padding: 'same' } }, // Conv-AE
  { kind: 'conv1dTranspose', T: 5, F: 2, o: { filters: 4, kernelSize: 3, strides: 3, padding: 'valid' } },
  { kind: 'conv1dTranspose', T: 7, F: 3, o: { filters: 2, kernelSize: 4, dilationRate: 2, padding: 'same' } },
  { kind: 'conv1dTranspose', T: 6, F: 4, o: { filters: 3, kernelSize: 2, dilationRate: 3, padding: 'valid' } },
  { kind: 'conv1dTranspose', T: 4, F: 3, o: { filters: 5, kernelSize: 1, strides: 2, useBias: false } },
];

function label(c: Case): string {
  const o = c.o;
  return (
    `${c.kind} T=${c.T} F=${c.F} filters=${o.filters} K=${o.kernelSize} s=${o.strides ?? 1} d=${o.dilationRate ?? 1} ` +
    `${o.padding ?? 'valid'}${o.useBias === false ? ' no bias' : ''}`
  );
}

function geometry(c: Case): Conv1dGeometry {
  const K = c.o.kernelSize,
    s = c.o.strides ?? 1,
    d = c.o.dilationRate ?? 1,
    p = c.o.padding ?? 'valid';
  if (c.kind === 'conv1d') return conv1dGeometry(c.T, K, s, d, p);
  const q = p as 'valid' | 'same';
  return conv1dGeometry(conv1dTransposeLength(c.T, K, s, d, q), K, s, d, q);
}

describe('lib/model/layers/conv.ts on the wasm backend', function () {
  let saved: Backend;
  before(function () {
    if (!wasmSimdAvailable()) this.skip();
    saved = getBackend();
  });
  afterEach(() => {
    if (saved !== undefined) setBackend(saved);
  });

  for (const c of CASES)
    for (const activation of ['linear', 'tanh', 'relu']) {
      it(`${label(c)} ${activation}: forward and every gradient agree with js (B = 5, 1, 3, 1, 4)`, () => {
        const rng = makeRng(`conv-wasm-${label(c)}-${activation}`);
        const make = (): ConvLayer => {
          const o = { ...c.o, activation };
          const layer = c.kind === 'conv1d' ? new Conv1D(o) : new Conv1DTranspose(o);
          layer.build([c.T, c.F], Float32Array, 'conv-wasm');
          return layer;
        };
        const js = make(),
          wa = make();
        const useBias = c.o.useBias !== false;
        const Co = c.o.filters,
          K = c.o.kernelSize;
        const bias = useBias ? uniform32(Co, rng) : new Float32Array(Co);
        for (const layer of [js, wa]) if (useBias) (layer.params()[1]?.value as Float32Array).set(bias);
        const W = js.params()[0]?.value as Float32Array;
        expect(Array.from(wa.params()[0]?.value as Float32Array), 'same seed, same kernel').to.deep.equal(
          Array.from(W),
        );
        const g = geometry(c),
          transposed = c.kind === 'conv1dTranspose';
        // the sums of dW run over g.To·B rows (conv1d's output rows, the transposed one's input rows); those of db over
        // the output rows (g.To·B, g.T·B); those of y over K·F taps (+ the bias), those of dx over K·filters
        const [Tin, Tout] = transposed ? [g.To, g.T] : [g.T, g.To];
        for (const N of [5, 1, 3, 1, 4]) {
          const x = uniform32(Tin * N * c.F, rng, -2, 2),
            dy = uniform32(Tout * N * Co, rng);
          const want = step(js, 'js', x, dy, N),
            got = step(wa, 'wasm', x, dy, N);
          expect([got.ops, want.ops], 'products: wasm on the wasm path, js on the js path').to.deep.equal([
            'wasm',
            'js',
          ]);
          expect(got.y.some((v) => v !== 0) && want.dx.some((v) => v !== 0), 'work was done').to.equal(true);
          const s = scales(transposed, g, N, c.F, Co, x, W, bias, dy);
          expectWithin(`N=${N} y`, got.y, want.y, K * c.F + 1, s.y);
          expectWithin(`N=${N} dW`, got.dW, want.dW, g.To * N, s.dW);
          if (useBias) expectWithin(`N=${N} db`, got.db, want.db, (transposed ? g.T : g.To) * N, s.db);
          expectWithin(`N=${N} dx`, got.dx, want.dx, K * Co, s.dx);
        }
      });
    }

  // The layers build their ops with empty staging buffers: a product whose operand is not an arena view throws, so the
  // agreement tests above also show that every product ran on arena views (W, dW and x copied in, nothing staged).
  it('makes the buffers of a batch size once, all on one arena: later steps reuse the same views, still attached', () => {
    setBackend('wasm');
    for (const layer of [
      new Conv1D({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      new Conv1DTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same' }),
    ]) {
      layer.build([8, 2], Float32Array, 'reuse');
      const rng = makeRng('reuse');
      const inLen = 8 * 3 * 2;
      const outLen = layer.outputShape[0] * 3 * layer.outputShape[1];
      const views: Float32Array[][] = [];
      for (let i = 0; i < 3; i++) {
        const y = layer.forward(uniform32(inLen, rng), 3, CTX) as Float32Array;
        const dx = layer.backward(uniform32(outLen, rng), true) as Float32Array;
        views.push([y, dx]);
        expect(lastBuffers(layer).ops.name).to.equal('wasm');
        expect([y.length, dx.length], `${layer.className}: views attached (the arena never grew)`).to.deep.equal([
          outLen,
          inLen,
        ]);
      }
      expect(views[1][0], `${layer.className} y`).to.equal(views[0][0]);
      expect(views[2][1], `${layer.className} dx`).to.equal(views[0][1]);
      const buf = lastBuffers(layer),
        [kernel] = layer.params();
      const arena = buf.y.buffer;
      expect(arena, 'the kernel is an ordinary array, not on the arena').to.not.equal(kernel?.value.buffer);
      for (const [name, v] of Object.entries(buf))
        if (v instanceof Float32Array) expect(v.buffer, `${layer.className} ${name} on the arena`).to.equal(arena);
      expect([buf.Ww.length, buf.dWw.length, buf.xw.length]).to.deep.equal([
        kernel?.value.length,
        kernel?.value.length,
        layer instanceof Conv1DTranspose ? inLen : 0,
      ]);
      // backward adds into the kernel gradient through its arena copy: a second backward doubles it
      const dy = uniform32(outLen, rng);
      kernel?.grad.fill(0);
      layer.forward(uniform32(inLen, rng), 3, CTX);
      layer.backward(Float32Array.from(dy), false);
      const once = Float32Array.from(kernel?.grad ?? []);
      layer.backward(Float32Array.from(dy), false);
      expect(once.some((v) => v !== 0)).to.equal(true);
      once.forEach((v, i) => expect(kernel?.grad[i], `dW[${i}]`).to.be.closeTo(2 * v, 1e-6 * Math.abs(v)));
    }
  });

  it('float64 layers stay on the js products under wasm', () => {
    setBackend('wasm');
    for (const layer of [
      new Conv1D({ filters: 2, kernelSize: 3, padding: 'causal' }),
      new Conv1DTranspose({ filters: 2, kernelSize: 3 }),
    ]) {
      layer.build([6, 2], Float64Array, 'f64');
      const y = layer.forward(new Float64Array(6 * 2 * 2).fill(0.5), 2, CTX);
      expect(y).to.be.instanceOf(Float64Array);
      expect(lastBuffers(layer).ops.name).to.equal('js');
    }
  });
});

describe('conv models: determinism on each path, agreement across paths', () => {
  let saved: Backend;
  before(() => {
    saved = getBackend();
  });
  afterEach(() => setBackend(saved));

  const rng = makeRng('conv-determinism');
  const N = 10,
    F = 2;
  // T 12 for the autoencoder (a multiple of 4); 13 for the stack (13 → 13 → 4 → 13 → 13: valid, stride 3, K 4)
  const x12 = { data: uniform32(N * 12 * F, rng), shape: [N, 12, F] };
  const x13 = { data: uniform32(N * 13 * F, rng), shape: [N, 13, F] };

  /** Trains under `backend`: the epoch losses and the final weights. */
  const train = (backend: Backend, which: 'ae' | 'stack'): { loss: number[]; weights: Float32Array[] } => {
    setBackend(backend);
    const m =
      which === 'ae'
        ? convAutoencoder({ window: 12, features: F, units: [6, 4], kernelSize: 3, dropoutRate: 0.2, seed: 7 })
        : new Sequential(
            [
              conv1d({ filters: 5, kernelSize: 3, padding: 'causal', dilationRate: 2, activation: 'tanh' }),
              conv1d({ filters: 4, kernelSize: 4, strides: 3, padding: 'valid', activation: 'relu' }),
              conv1dTranspose({ filters: 3, kernelSize: 4, strides: 3, padding: 'valid', activation: 'tanh' }),
              conv1dTranspose({ filters: F, kernelSize: 3, dilationRate: 2, padding: 'same' }),
            ],
            { seed: 7 },
          ).build([13, F]);
    const x = which === 'ae' ? x12 : x13;
    const h = m.fit(x, x, { epochs: 3, batchSize: 4, shuffle: true, seed: 3, workers: 1 });
    return { loss: h.loss, weights: m.getWeights().map((w) => Float32Array.from(w)) };
  };

  const paths: Backend[] = wasmSimdAvailable() ? ['js', 'wasm'] : ['js'];
  for (const which of ['ae', 'stack'] as const) {
    const name =
      which === 'ae' ? 'convAutoencoder (dropout 0.2)' : 'a causal/dilated/strided conv and transposed stack';
    for (const backend of paths) {
      it(`${name} on ${backend}: the same seed trains to the same bits`, () => {
        const a = train(backend, which),
          b = train(backend, which);
        expect(a.loss.every((l) => Number.isFinite(l) && l > 0)).to.equal(true);
        expect(b.loss, 'losses').to.deep.equal(a.loss);
        a.weights.forEach((w, i) => {
          for (let j = 0; j < w.length; j++)
            if (!Object.is(b.weights[i][j], w[j])) expect.fail(`weight ${i}[${j}]: ${b.weights[i][j]} vs ${w[j]}`);
        });
      });
    }
    if (paths.length === 2)
      it(`${name}: wasm and js agree after 3 epochs (losses and weights to 1e-4 relative)`, () => {
        const js = train('js', which),
          wa = train('wasm', which);
        js.loss.forEach((l, i) => expect(Math.abs(wa.loss[i] - l), `loss ${i}`).to.be.at.most(1e-4 * l));
        js.weights.forEach((w, i) => {
          let num = 0,
            den = 0;
          for (let j = 0; j < w.length; j++) {
            num = Math.max(num, Math.abs(wa.weights[i][j] - w[j]));
            den = Math.max(den, Math.abs(w[j]));
          }
          expect(num / den, `weight ${i}`).to.be.at.most(1e-4);
        });
        expect(
          js.weights.some((w, i) => w.some((v, j) => !Object.is(v, wa.weights[i][j]))),
          'the two paths really differ in rounding (the wasm products ran)',
        ).to.equal(true);
      });
  }
});
