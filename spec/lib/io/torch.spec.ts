/**
 * lib/io/torch.ts: PyTorch state dicts (nn.LSTM, nn.GRU, nn.RNN, nn.Linear) onto bptt models.
 *
 * The expected outputs come from scalar loops written straight from PyTorch's documented equations, over the tensors in
 * PyTorch's own layout ([out, in] matrices, gate blocks i|f|g|o and r|z|n, separate input and hidden biases) — they never
 * call bptt. Weights are seeded uniform(−0.6, 0.6), biases included; models run in float64 (≤ 1e-12) and float32 (≤ 1e-5).
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Sequential } from '../../../lib/model/sequential';
import {
  bidirectional,
  dense,
  gru,
  lstm,
  repeatVector,
  simpleRNN,
  timeDistributed,
} from '../../../lib/model/layers/index';
import { serializeSafetensors } from '../../../lib/io/safetensors';
import {
  loadTorchSafetensors,
  loadTorchSafetensorsSync,
  loadTorchStateDict,
  type TorchTensor,
} from '../../../lib/io/torch';
import { makeRng, type Rng } from '../../helpers/rng';
import { maxAbs } from '../../helpers/oracle';
import { ArgumentError } from '../../../lib/errors';

type Vec = number[];
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

function tensor(shape: number[], rng: Rng, scale = 0.6): { shape: number[]; data: Float64Array } {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = (2 * rng() - 1) * scale;
  return { shape, data };
}

/** W[rows, cols] (row-major, PyTorch layout) times v, rows r0 … r0+n. */
function matvec(W: TorchTensor, v: Vec, r0: number, n: number): Vec {
  const cols = W.shape[1];
  const out: Vec = [];
  for (let r = r0; r < r0 + n; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += W.data[r * cols + c] * v[c];
    out.push(s);
  }
  return out;
}

interface Dir {
  wih: TorchTensor;
  whh: TorchTensor;
  bih: TorchTensor | null;
  bhh: TorchTensor | null;
}

const bias = (b: TorchTensor | null, i: number): number => (b === null ? 0 : b.data[i]);

/**
 * PyTorch nn.LSTM, one layer, one direction (docs: torch.nn.LSTM):
 *   i = σ(W_ii x + b_ii + W_hi h + b_hi)   f = σ(W_if x + b_if + W_hf h + b_hf)
 *   g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = σ(W_io x + b_io + W_ho h + b_ho)
 *   c' = f ⊙ c + i ⊙ g;   h' = o ⊙ tanh(c')         (rows of W_ih / W_hh: i | f | g | o)
 */
function torchLstm(xs: Vec[], p: Dir, H: number): Vec[] {
  let h: Vec = new Array<number>(H).fill(0),
    c: Vec = new Array<number>(H).fill(0);
  return xs.map((x) => {
    const a = matvec(p.wih, x, 0, 4 * H),
      r = matvec(p.whh, h, 0, 4 * H);
    const pre = (k: number): number => a[k] + r[k] + bias(p.bih, k) + bias(p.bhh, k);
    const nc: Vec = [],
      nh: Vec = [];
    for (let j = 0; j < H; j++) {
      const i = sigmoid(pre(j)),
        f = sigmoid(pre(H + j)),
        g = Math.tanh(pre(2 * H + j)),
        o = sigmoid(pre(3 * H + j));
      nc.push(f * c[j] + i * g);
      nh.push(o * Math.tanh(nc[j]));
    }
    c = nc;
    h = nh;
    return h;
  });
}

/**
 * PyTorch nn.GRU (docs: torch.nn.GRU), rows r | z | n:
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr)   z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))   h' = (1 − z) ⊙ n + z ⊙ h
 */
function torchGru(xs: Vec[], p: Dir, H: number): Vec[] {
  let h: Vec = new Array<number>(H).fill(0);
  return xs.map((x) => {
    const a = matvec(p.wih, x, 0, 3 * H),
      u = matvec(p.whh, h, 0, 3 * H);
    const nh: Vec = [];
    for (let j = 0; j < H; j++) {
      const r = sigmoid(a[j] + bias(p.bih, j) + u[j] + bias(p.bhh, j));
      const z = sigmoid(a[H + j] + bias(p.bih, H + j) + u[H + j] + bias(p.bhh, H + j));
      const n = Math.tanh(a[2 * H + j] + bias(p.bih, 2 * H + j) + r * (u[2 * H + j] + bias(p.bhh, 2 * H + j)));
      nh.push((1 - z) * n + z * h[j]);
    }
    h = nh;
    return h;
  });
}

/** PyTorch nn.RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh), act = tanh or relu (nonlinearity). */
function torchRnn(act: 'tanh' | 'relu') {
  return (xs: Vec[], p: Dir, H: number): Vec[] => {
    let h: Vec = new Array<number>(H).fill(0);
    return xs.map((x) => {
      const a = matvec(p.wih, x, 0, H),
        u = matvec(p.whh, h, 0, H);
      h = a.map((v, j) => {
        const z = v + u[j] + bias(p.bih, j) + bias(p.bhh, j);
        return act === 'tanh' ? Math.tanh(z) : Math.max(0, z);
      });
      return h;
    });
  };
}

type CellFn = (xs: Vec[], p: Dir, H: number) => Vec[];

/** A bidirectional layer: output_t = [forward h_t, reverse h_t] (reverse run over the reversed input, put back in order). */
function torchBi(cell: CellFn, xs: Vec[], f: Dir, b: Dir, H: number): { out: Vec[]; hn: Vec } {
  const hf = cell(xs, f, H);
  const hb = cell(xs.slice().reverse(), b, H).reverse();
  return { out: hf.map((v, t) => [...v, ...hb[t]]), hn: [...hf[hf.length - 1], ...hb[0]] };
}

/** nn.Linear: y = W x + b, W [out, in]. */
function torchLinear(x: Vec, w: TorchTensor, b: TorchTensor | null): Vec {
  return matvec(w, x, 0, w.shape[0]).map((v, i) => v + bias(b, i));
}

/** State dict of one recurrent module: G gate blocks, `layers` layers, optional reverse direction and biases. */
function rnnState(
  prefix: string,
  G: number,
  D: number,
  H: number,
  rng: Rng,
  o: { layers?: number; bi?: boolean; bias?: boolean } = {},
): Record<string, { shape: number[]; data: Float64Array }> {
  const out: Record<string, { shape: number[]; data: Float64Array }> = {};
  const p = prefix === '' ? '' : `${prefix}.`;
  for (let k = 0; k < (o.layers ?? 1); k++) {
    const inF = k === 0 ? D : H * (o.bi ? 2 : 1);
    for (const s of o.bi ? ['', '_reverse'] : ['']) {
      out[`${p}weight_ih_l${k}${s}`] = tensor([G * H, inF], rng);
      out[`${p}weight_hh_l${k}${s}`] = tensor([G * H, H], rng);
      if (o.bias ?? true) {
        out[`${p}bias_ih_l${k}${s}`] = tensor([G * H], rng);
        out[`${p}bias_hh_l${k}${s}`] = tensor([G * H], rng);
      }
    }
  }
  return out;
}

function dirOf(sd: Record<string, TorchTensor>, prefix: string, k: number, reverse = false): Dir {
  const p = prefix === '' ? '' : `${prefix}.`,
    s = `_l${k}${reverse ? '_reverse' : ''}`;
  return {
    wih: sd[`${p}weight_ih${s}`],
    whh: sd[`${p}weight_hh${s}`],
    bih: sd[`${p}bias_ih${s}`] ?? null,
    bhh: sd[`${p}bias_hh${s}`] ?? null,
  };
}

function inputs(N: number, T: number, D: number, seed: string): { flat: Float64Array; seqs: Vec[][] } {
  const rng = makeRng(seed);
  const flat = new Float64Array(N * T * D);
  for (let i = 0; i < flat.length; i++) flat[i] = 2 * rng() - 1;
  const seqs = Array.from({ length: N }, (_, n) =>
    Array.from({ length: T }, (_, t) => Array.from(flat.subarray((n * T + t) * D, (n * T + t + 1) * D))),
  );
  return { flat, seqs };
}

/** Predicts with the float64 model (≤ 1e-12) and a float32 copy (≤ 1e-5) against the expected flat output. */
function check(
  build: (dtype: 'float32' | 'float64') => Sequential,
  load: (m: Sequential) => unknown,
  x: Float64Array,
  xShape: number[],
  want: number[],
): void {
  for (const [dtype, tol] of [
    ['float64', 1e-12],
    ['float32', 1e-5],
  ] as const) {
    const m = build(dtype);
    load(m);
    const got = m.predict({ data: x, shape: xShape }).data;
    expect(maxAbs(got, want), dtype).to.be.at.most(tol);
  }
}

const T = 5,
  N = 3;

describe('lib/io/torch', () => {
  describe('outputs match PyTorch equations computed independently', () => {
    it('nn.LSTM (bare module state dict) → lstm, all steps and last step', () => {
      const D = 3,
        H = 4;
      const sd = rnnState('', 4, D, H, makeRng('torch/lstm'));
      const { flat, seqs } = inputs(N, T, D, 'torch/lstm/x');
      const ref = seqs.map((s) => torchLstm(s, dirOf(sd, '', 0), H));
      check(
        (dtype) => new Sequential([lstm({ units: H, returnSequences: true })], { dtype }).build([T, D]),
        (m) =>
          expect(loadTorchStateDict(m, sd)).to.deep.equal([
            { layer: 'lstm', source: "'' (the root module) (nn.LSTM l0, input 3, hidden 4)" },
          ]),
        flat,
        [N, T, D],
        ref.flat(2),
      );
      check(
        (dtype) => new Sequential([lstm({ units: H })], { dtype }).build([T, D]),
        (m) => loadTorchStateDict(m, new Map(Object.entries(sd))),
        flat,
        [N, T, D],
        ref.map((r) => r[T - 1]).flat(),
      );
    });

    it('nn.GRU + nn.Linear → gru (resetAfter) → dense; the order is found although "fc" sorts before "gru"', () => {
      const D = 2,
        H = 3;
      const rng = makeRng('torch/gru');
      const sd = { ...rnnState('gru', 3, D, H, rng), 'fc.weight': tensor([2, H], rng), 'fc.bias': tensor([2], rng) };
      const { flat, seqs } = inputs(N, T, D, 'torch/gru/x');
      const want = seqs
        .map((s) => torchLinear(torchGru(s, dirOf(sd, 'gru', 0), H)[T - 1], sd['fc.weight'], sd['fc.bias']))
        .flat();
      check(
        (dtype) =>
          new Sequential([gru({ units: H, resetAfter: true, recurrentActivation: 'sigmoid' }), dense({ units: 2 })], {
            dtype,
          }).build([T, D]),
        (m) => expect(loadTorchStateDict(m, sd).map((a) => a.layer)).to.deep.equal(['gru', 'dense']),
        flat,
        [N, T, D],
        want,
      );
    });

    it('nn.GRU weights land in Keras order z|r|h with bias rows [input; recurrent]', () => {
      const sd = rnnState('', 3, 1, 1, makeRng('torch/gru-order'));
      const m = new Sequential([gru({ units: 1 })], { dtype: 'float64' }).build([2, 1]);
      loadTorchStateDict(m, sd);
      const [W, U, b] = m.getWeights() as [Float64Array, Float64Array, Float64Array];
      const r = (k: string, i: number): number => sd[k]?.data[i];
      expect(Array.from(W)).to.deep.equal([r('weight_ih_l0', 1), r('weight_ih_l0', 0), r('weight_ih_l0', 2)]);
      expect(Array.from(U)).to.deep.equal([r('weight_hh_l0', 1), r('weight_hh_l0', 0), r('weight_hh_l0', 2)]);
      expect(Array.from(b)).to.deep.equal([
        r('bias_ih_l0', 1),
        r('bias_ih_l0', 0),
        r('bias_ih_l0', 2),
        r('bias_hh_l0', 1),
        r('bias_hh_l0', 0),
        r('bias_hh_l0', 2),
      ]);
    });

    for (const act of ['tanh', 'relu'] as const) {
      it(`nn.RNN (nonlinearity='${act}') → simpleRNN({ activation: '${act}' }), bias=False`, () => {
        const D = 3,
          H = 4;
        const sd = rnnState('rnn', 1, D, H, makeRng(`torch/rnn/${act}`), { bias: false });
        const { flat, seqs } = inputs(N, T, D, `torch/rnn/${act}/x`);
        const want = seqs.map((s) => torchRnn(act)(s, dirOf(sd, 'rnn', 0), H)).flat(2);
        check(
          (dtype) =>
            new Sequential([simpleRNN({ units: H, activation: act, returnSequences: true })], { dtype }).build([T, D]),
          (m) => loadTorchStateDict(m, sd),
          flat,
          [N, T, D],
          want,
        );
      });
    }

    it('2-layer nn.LSTM (l0, l1) → two stacked lstm layers', () => {
      const D = 2,
        H = 3;
      const sd = rnnState('encoder', 4, D, H, makeRng('torch/lstm2'), { layers: 2 });
      const { flat, seqs } = inputs(N, T, D, 'torch/lstm2/x');
      const want = seqs
        .map((s) => torchLstm(torchLstm(s, dirOf(sd, 'encoder', 0), H), dirOf(sd, 'encoder', 1), H)[T - 1])
        .flat();
      check(
        (dtype) =>
          new Sequential([lstm({ units: H, returnSequences: true }), lstm({ units: H })], { dtype }).build([T, D]),
        (m) =>
          expect(loadTorchStateDict(m, sd).map((a) => a.source)).to.deep.equal([
            "'encoder' (nn.LSTM l0, input 2, hidden 3)",
            "'encoder' (nn.LSTM l1, input 3, hidden 3)",
          ]),
        flat,
        [N, T, D],
        want,
      );
    });

    it('bidirectional 2-layer nn.LSTM (_reverse) → two bidirectional(lstm): output sequence, and h_n of the last layer', () => {
      const D = 2,
        H = 3;
      const sd = rnnState('bilstm', 4, D, H, makeRng('torch/bilstm'), { layers: 2, bi: true });
      const { flat, seqs } = inputs(N, T, D, 'torch/bilstm/x');
      const run = (s: Vec[]): { out: Vec[]; hn: Vec } => {
        const l0 = torchBi(torchLstm, s, dirOf(sd, 'bilstm', 0), dirOf(sd, 'bilstm', 0, true), H);
        return torchBi(torchLstm, l0.out, dirOf(sd, 'bilstm', 1), dirOf(sd, 'bilstm', 1, true), H);
      };
      check(
        (dtype) =>
          new Sequential(
            [
              bidirectional(lstm({ units: H, returnSequences: true })),
              bidirectional(lstm({ units: H, returnSequences: true })),
            ],
            { dtype },
          ).build([T, D]),
        (m) => loadTorchStateDict(m, sd),
        flat,
        [N, T, D],
        seqs.map((s) => run(s).out).flat(2),
      );
      check(
        (dtype) =>
          new Sequential(
            [bidirectional(lstm({ units: H, returnSequences: true })), bidirectional(lstm({ units: H }))],
            { dtype },
          ).build([T, D]),
        (m) => loadTorchStateDict(m, sd),
        flat,
        [N, T, D],
        seqs.map((s) => run(s).hn).flat(),
      );
    });

    it('bidirectional nn.GRU → bidirectional(gru) → timeDistributed(dense) from nn.Linear', () => {
      const D = 3,
        H = 2;
      const rng = makeRng('torch/bigru');
      const sd = {
        ...rnnState('rnn', 3, D, H, rng, { bi: true }),
        'head.weight': tensor([1, 2 * H], rng),
        'head.bias': tensor([1], rng),
      };
      const { flat, seqs } = inputs(N, T, D, 'torch/bigru/x');
      const want = seqs
        .map((s) =>
          torchBi(torchGru, s, dirOf(sd, 'rnn', 0), dirOf(sd, 'rnn', 0, true), H).out.map((v) =>
            torchLinear(v, sd['head.weight'], sd['head.bias']),
          ),
        )
        .flat(2);
      check(
        (dtype) =>
          new Sequential(
            [bidirectional(gru({ units: H, returnSequences: true })), timeDistributed(dense({ units: 1 }))],
            { dtype },
          ).build([T, D]),
        (m) => loadTorchStateDict(m, sd, { modules: ['rnn', 'head'] }),
        flat,
        [N, T, D],
        want,
      );
    });

    it('nn.Linear alone → dense on vectors', () => {
      const rng = makeRng('torch/linear');
      const sd = { weight: tensor([3, 4], rng), bias: tensor([3], rng) };
      const x = Float64Array.from({ length: 2 * 4 }, (_, i) => Math.sin(i + 1));
      const want = [0, 1].flatMap((n) => torchLinear(Array.from(x.subarray(n * 4, n * 4 + 4)), sd.weight, sd.bias));
      check(
        (dtype) => new Sequential([dense({ units: 3 })], { dtype }).build([4]),
        (m) => loadTorchStateDict(m, sd),
        x,
        [2, 4],
        want,
      );
    });

    it('an autoencoder with modules enc, dec, out (name order dec < enc < out) is placed by its shapes', () => {
      const D = 1,
        H = 4;
      const rng = makeRng('torch/ae');
      const sd = {
        ...rnnState('enc', 4, D, H, rng),
        ...rnnState('dec', 4, H, H, rng),
        'out.weight': tensor([D, H], rng),
        'out.bias': tensor([D], rng),
      };
      const { flat, seqs } = inputs(N, T, D, 'torch/ae/x');
      const want = seqs
        .map((s) => {
          const z = torchLstm(s, dirOf(sd, 'enc', 0), H)[T - 1];
          return torchLstm(new Array<Vec>(T).fill(z), dirOf(sd, 'dec', 0), H).map((h) =>
            torchLinear(h, sd['out.weight'], sd['out.bias']),
          );
        })
        .flat(2);
      check(
        (dtype) =>
          new Sequential(
            [
              lstm({ units: H }),
              repeatVector({ n: T }),
              lstm({ units: H, returnSequences: true }),
              timeDistributed(dense({ units: D })),
            ],
            { dtype },
          ).build([T, D]),
        (m) =>
          expect(loadTorchStateDict(m, sd).map((a) => `${a.layer}←${a.source.split(' ')[0]}`)).to.deep.equal([
            "lstm←'enc'",
            "lstm_1←'dec'",
            "time_distributed←'out'",
          ]),
        flat,
        [N, T, D],
        want,
      );
    });
  });

  describe('safetensors files', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-torch-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('reads a file written with serializeSafetensors (float32 tensors), sync and async', async () => {
      const D = 2,
        H = 3;
      const sd64 = rnnState('lstm', 4, D, H, makeRng('torch/file'));
      const sd: Record<string, { shape: number[]; data: Float32Array }> = {};
      for (const [k, t] of Object.entries(sd64)) sd[k] = { shape: t.shape, data: Float32Array.from(t.data) };
      const file = path.join(dir, 'lstm.safetensors');
      fs.writeFileSync(file, serializeSafetensors(sd, { format: 'pt' }));
      const { flat, seqs } = inputs(N, T, D, 'torch/file/x');
      const want = seqs.map((s) => torchLstm(s, dirOf(sd, 'lstm', 0), H)[T - 1]).flat();
      const a = new Sequential([lstm({ units: H })], { dtype: 'float64' }).build([T, D]);
      expect((await loadTorchSafetensors(a, file)).map((x) => x.layer)).to.deep.equal(['lstm']);
      expect(maxAbs(a.predict({ data: flat, shape: [N, T, D] }).data, want)).to.be.at.most(1e-12);
      const b = new Sequential([lstm({ units: H })]).build([T, D]);
      loadTorchSafetensorsSync(b, file);
      expect(maxAbs(b.predict({ data: flat, shape: [N, T, D] }).data, want)).to.be.at.most(1e-5);
    });

    it("reads a file built byte by byte (nn.Linear, F32, keys in the reference writer's order)", () => {
      const w = [0.5, -1, 0.25, 2, 0, -0.75]; // weight [2, 3]
      const b = [0.125, -0.5]; // bias [2]
      const header = JSON.stringify({
        __metadata__: { format: 'pt' },
        'proj.bias': { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        'proj.weight': { dtype: 'F32', shape: [2, 3], data_offsets: [8, 32] },
      });
      const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
      const bytes = Buffer.alloc(8 + padded.length + 32);
      bytes.writeBigUInt64LE(BigInt(padded.length), 0);
      bytes.write(padded, 8, 'utf8');
      [...b, ...w].forEach((v, i) => bytes.writeFloatLE(v, 8 + padded.length + 4 * i));
      const file = path.join(dir, 'linear.safetensors');
      fs.writeFileSync(file, bytes);
      const m = new Sequential([dense({ units: 2 })]).build([3]);
      loadTorchSafetensorsSync(m, file);
      expect(Array.from(m.getWeights()[0] as Float32Array)).to.deep.equal([0.5, 2, -1, 0, 0.25, -0.75]); // weightᵀ
      expect(Array.from(m.predict([[1, 2, 3]]).data)).to.deep.equal([0.5 - 2 + 0.75 + 0.125, 2 + 0 - 2.25 - 0.5]);
    });
  });

  describe('what does not fit is named, and the model is left untouched', () => {
    const D = 3,
      H = 4;
    const lstmModel = (): Sequential => new Sequential([lstm({ units: H })]).build([T, D]);

    /** f(m) throws matching re, and m's weights are as they were. */
    function untouched(m: Sequential, f: (m: Sequential) => unknown, re: RegExp): void {
      const before = m.getWeights().map((w) => Array.from(w));
      expect(() => f(m)).to.throw(re);
      expect(m.getWeights().map((w) => Array.from(w))).to.deep.equal(before);
    }

    it('a missing key', () => {
      const sd = rnnState('lstm', 4, D, H, makeRng('torch/err/1'));
      delete sd['lstm.weight_hh_l0'];
      untouched(
        lstmModel(),
        (m) => loadTorchStateDict(m, sd),
        /module 'lstm': lstm\.weight_hh_l0 is missing \(the module has lstm\.bias_hh_l0, lstm\.bias_ih_l0, lstm\.weight_ih_l0\)/,
      );
      const sd2 = rnnState('lstm', 4, D, H, makeRng('torch/err/1'));
      delete sd2['lstm.bias_hh_l0'];
      expect(() => loadTorchStateDict(lstmModel(), sd2)).to.throw(ArgumentError, /expected both bias_ih and bias_hh/);
    });

    it('a wrong shape, with and without mapping.modules', () => {
      const sd = rnnState('lstm', 4, 2, H, makeRng('torch/err/2')); // D = 2, the model has D = 3
      const m = lstmModel();
      untouched(
        m,
        (x) => loadTorchStateDict(x, sd),
        /no order of the modules 'lstm' fits the model's layers \('lstm' \(LSTM, units 4\)\); in name order: layer 'lstm' \(LSTM, units 4\) has input 3 and 4 units; 'lstm' \(nn\.LSTM l0, input 2, hidden 4\) has input 2 and hidden 4/,
      );
      untouched(
        m,
        (x) => loadTorchStateDict(x, sd, { modules: ['lstm'] }),
        /layer 'lstm' \(LSTM, units 4\) has input 3 and 4 units; 'lstm' \(nn\.LSTM l0, input 2, hidden 4\)/,
      );
      const bad = rnnState('lstm', 4, D, H, makeRng('torch/err/2b'));
      bad['lstm.bias_ih_l0'] = tensor([15], makeRng('x'));
      expect(() => loadTorchStateDict(lstmModel(), bad)).to.throw(
        ArgumentError,
        /lstm\.bias_ih_l0 has shape \[15\], expected \[16\]/,
      );
      const lin = { weight: tensor([2, 5], makeRng('y')) };
      expect(() =>
        loadTorchStateDict(new Sequential([dense({ units: 2 })]).build([4]), lin, { modules: [''] }),
      ).to.throw(
        ArgumentError,
        /layer 'dense' \(Dense, units 2\) has kernel \[4, 2\]; '' \(the root module\) \(nn\.Linear 5 → 2\) needs \[5, 2\] \(weight \[2, 5\] transposed\)/,
      );
    });

    it('a wrong layer type', () => {
      const sd = rnnState('rnn', 3, D, H, makeRng('torch/err/3')); // nn.GRU weights
      untouched(
        lstmModel(),
        (x) => loadTorchStateDict(x, sd, { modules: ['rnn'] }),
        /layer 'lstm' \(LSTM, units 4\) is LSTM; 'rnn' \(nn\.GRU l0, input 3, hidden 4\) is nn\.GRU/,
      );
      const bi = rnnState('rnn', 4, D, H, makeRng('torch/err/3b'), { bi: true });
      expect(() => loadTorchStateDict(lstmModel(), bi, { modules: ['rnn'] })).to.throw(
        ArgumentError,
        /is not bidirectional; 'rnn' \(nn\.LSTM l0, bidirectional, input 3, hidden 4\) has _reverse weights/,
      );
      const lin = { 'fc.weight': tensor([H, D], makeRng('z')) };
      expect(() => loadTorchStateDict(lstmModel(), lin, { modules: ['fc'] })).to.throw(
        ArgumentError,
        /layer 'lstm' \(LSTM, units 4\) cannot take 'fc' \(nn\.Linear 3 → 4\): nn\.Linear maps onto dense/,
      );
      expect(() =>
        loadTorchStateDict(new Sequential([dense({ units: 4 })]).build([3]), rnnState('', 4, D, H, makeRng('w'))),
      ).to.throw(ArgumentError, /no order of the modules/);
    });

    it('layer options PyTorch cannot express: a classic GRU, hard_sigmoid gates, goBackwards, a bias-free dense', () => {
      const sd = rnnState('', 3, D, H, makeRng('torch/err/4'));
      expect(() =>
        loadTorchStateDict(new Sequential([gru({ units: H, resetAfter: false })]).build([T, D]), sd),
      ).to.throw(
        ArgumentError,
        /resetAfter false; nn\.GRU applies the reset gate after the recurrent product: build it with gru\(\{ resetAfter: true \}\)/,
      );
      expect(() =>
        loadTorchStateDict(new Sequential([gru({ units: H, recurrentActivation: 'hardSigmoid' })]).build([T, D]), sd),
      ).to.throw(ArgumentError, /recurrentActivation hardSigmoid; nn\.GRU uses sigmoid/);
      expect(() =>
        loadTorchStateDict(new Sequential([gru({ units: H, goBackwards: true })]).build([T, D]), sd),
      ).to.throw(ArgumentError, /goBackwards true; nn\.GRU has no such option/);
      const lin = { weight: tensor([2, 3], makeRng('v')), bias: tensor([2], makeRng('u')) };
      expect(() =>
        loadTorchStateDict(new Sequential([dense({ units: 2, useBias: false })]).build([3]), lin, { modules: [''] }),
      ).to.throw(ArgumentError, /useBias false; '' \(the root module\) \(nn\.Linear 3 → 2\) has a bias/);
    });

    it('counts, unused tensors, unknown modules, ambiguous orders', () => {
      const rng = makeRng('torch/err/5');
      const two = { ...rnnState('a', 4, D, H, rng), ...rnnState('b', 4, H, H, rng) };
      expect(() => loadTorchStateDict(lstmModel(), two)).to.throw(
        ArgumentError,
        /the model has 1 layers with weights \('lstm' \(LSTM, units 4\)\); the state dict has 2/,
      );
      expect(() => loadTorchStateDict(lstmModel(), two, { modules: ['a'] })).to.throw(
        ArgumentError,
        /tensors of 'b' are not used \(b\.bias_hh_l0, .*\); list the module or pass allowUnused/,
      );
      expect(loadTorchStateDict(lstmModel(), two, { modules: ['a'], allowUnused: true })).to.have.length(1);
      const bn = {
        ...rnnState('lstm', 4, D, H, rng),
        'bn.running_mean': tensor([H], rng),
        'bn.weight': tensor([H], rng),
      };
      expect(() => loadTorchStateDict(lstmModel(), bn)).to.throw(
        ArgumentError,
        /module 'bn' is not an nn\.LSTM, nn\.GRU, nn\.RNN or nn\.Linear state dict: bn\.running_mean \[4\], bn\.weight \[4\]/,
      );
      expect(() =>
        loadTorchStateDict(lstmModel(), {
          ...rnnState('lstm', 4, D, H, rng),
          'lstm.weight_hr_l0': tensor([2, H], rng),
        }),
      ).to.throw(ArgumentError, /proj_size is not supported/);
      // Three LSTMs 4 → 4 could go in either order after the first: ambiguous until mapping.modules says.
      const sd = { ...rnnState('first', 4, D, H, rng), ...rnnState('x', 4, H, H, rng), ...rnnState('y', 4, H, H, rng) };
      const stack = (): Sequential =>
        new Sequential([
          lstm({ units: H, returnSequences: true }),
          lstm({ units: H, returnSequences: true }),
          lstm({ units: H }),
        ]).build([T, D]);
      expect(() => loadTorchStateDict(stack(), sd)).to.throw(
        ArgumentError,
        /fit the model in more than one order \('first' → 'x' → 'y'; 'first' → 'y' → 'x'\); pass mapping\.modules/,
      );
      const m = stack();
      expect(
        loadTorchStateDict(m, sd, { modules: ['first', 'y', 'x'] }).map((a) => a.source.split(' ')[0]),
      ).to.deep.equal(["'first'", "'y'", "'x'"]);
      expect(Array.from(m.getWeights()[3] as Float32Array)[0]).to.equal(Math.fround(sd['y.weight_ih_l0']?.data[0]));
      expect(() => loadTorchStateDict(stack(), sd, { modules: ['first', 'nope'] })).to.throw(
        ArgumentError,
        /no tensors under 'nope'; the state dict has modules 'first', 'x', 'y'/,
      );
    });

    it('non-finite values, bad tensors, an unbuilt model', () => {
      const sd = rnnState('', 4, D, H, makeRng('torch/err/6'));
      (sd['weight_hh_l0'] as { data: Float64Array }).data[7] = Infinity;
      untouched(
        lstmModel(),
        (m) => loadTorchStateDict(m, sd),
        /weight_hh_l0 has a non-finite value Infinity at index 7/,
      );
      expect(() =>
        loadTorchStateDict(
          new Sequential([dense({ units: 2 })]).build([2]),
          { weight: { shape: [2, 2], data: [1, 2, 3] } },
          { modules: [''] },
        ),
      ).to.throw(/shape \[2, 2\] needs 4 values, data has 3/);
      expect(() => loadTorchStateDict(lstmModel(), { weight: 5 as unknown as TorchTensor })).to.throw(
        ArgumentError,
        /tensor 'weight' must be \{ shape, data \}/,
      );
      expect(() => loadTorchStateDict(new Sequential([lstm({ units: 2 })]), {})).to.throw(/build the model first/);
    });
  });
});
