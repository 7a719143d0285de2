import { spawnSync } from 'child_process';
import * as path from 'path';
import { expect } from 'chai';
import {
  Detector,
  type Sequential,
  getBackend,
  gruAutoencoder,
  lstmAutoencoder,
  rnnAutoencoder,
  setBackend,
} from '../../lib/index';
import { wasmSimdAvailable } from '../../kernels/wasm/arena';
import { makeRng } from '../helpers/rng';
import { coreEnv } from '../helpers/proc';
import { ArgumentError } from '../../lib/errors';

/** The compiled library entry, next to this compiled spec (dist/spec/lib → dist/lib). */
const LIB = path.join(__dirname, '..', '..', 'lib', 'index.js');

type Preset = (o: { window: number; features?: number; units?: number | number[]; seed?: number }) => Sequential;

/** max |a − b| / (max |b| + tiny): a relative error over the whole array. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / (den + 1e-30);
}

function data(N: number, T: number, D: number, seed: string): number[][][] {
  const rng = makeRng(seed);
  return Array.from({ length: N }, () => Array.from({ length: T }, () => Array.from({ length: D }, () => rng() - 0.5)));
}

/** Builds under `backend`, then: predictions, model gradients, and weights after 3 full-batch Adam steps. */
function run(backend: 'js' | 'wasm', preset: Preset, x: number[][][]) {
  const before = getBackend();
  setBackend(backend);
  try {
    const T = x[0].length,
      D = x[0][0].length;
    const m = preset({ window: T, features: D, units: [12, 6], seed: 5 });
    const pred = m.predict(x).data as Float32Array;
    const grads = m.gradients(x, x).grads.map((g) => Array.from(g));
    m.fit(x, x, { epochs: 3, batchSize: x.length, shuffle: false });
    const after = m.getWeights().map((w) => Array.from(w));
    const pred3 = m.predict(x).data as Float32Array;
    return { pred: Array.from(pred), grads, after, pred3: Array.from(pred3) };
  } finally {
    setBackend(before);
  }
}

describe('backend: wasm vs js (float32)', () => {
  // Node ≥ 16.4 (and every current browser) has WebAssembly SIMD; the project requires Node 20, so this must hold.
  it('WebAssembly SIMD is available on this runtime', () => {
    expect(wasmSimdAvailable()).to.equal(true);
  });

  // The suite runs on three paths (scripts/mocha-on.js): the default, BPTT_BACKEND=js and wasm on relaxed-fma; every
  // test here puts back the backend it found.
  let suiteBackend: 'js' | 'wasm';
  beforeEach(() => {
    suiteBackend = getBackend();
  });
  afterEach(() => setBackend(suiteBackend));

  it("defaults to 'auto' (wasm where SIMD is available) unless BPTT_BACKEND says otherwise", () => {
    const env = process.env['BPTT_BACKEND'];
    expect(suiteBackend).to.equal(env === 'js' ? 'js' : 'wasm');
  });

  it("can be switched, resolves 'auto', rejects an unknown name", () => {
    setBackend('js');
    expect(getBackend()).to.equal('js');
    setBackend('auto');
    expect(getBackend()).to.equal('wasm');
    setBackend('js');
    setBackend('wasm');
    expect(getBackend()).to.equal('wasm');
    expect(() => setBackend('gpu' as never)).to.throw(
      ArgumentError,
      /setBackend\(backend\): expected 'js', 'wasm' or 'auto', got "gpu"/,
    );
    expect(getBackend(), 'a rejected name leaves the backend as it was').to.equal('wasm');
  });

  it('BPTT_BACKEND sets the default in a fresh process and is checked', () => {
    const probe = (env: string): { status: number | null; out: string; err: string } => {
      const r = spawnSync(
        process.execPath,
        ['-e', `process.stdout.write(require(${JSON.stringify(LIB)}).getBackend())`],
        { env: coreEnv({ BPTT_BACKEND: env }), encoding: 'utf8' },
      );
      return { status: r.status, out: r.stdout, err: r.stderr };
    };
    expect(probe('js').out).to.equal('js');
    expect(probe('wasm').out).to.equal('wasm');
    expect(probe('auto').out).to.equal('wasm');
    expect(probe('').out).to.equal('wasm');
    const bad = probe('gpu');
    expect(bad.status).to.not.equal(0);
    expect(bad.err).to.match(/BPTT_BACKEND: expected 'js', 'wasm' or 'auto', got "gpu"/);
  });

  const x = data(9, 7, 3, 'backend');
  const presets: [string, Preset][] = [
    ['LSTM', lstmAutoencoder],
    ['GRU', gruAutoencoder],
    ['RNN', rnnAutoencoder],
  ];
  for (const [name, preset] of presets) {
    it(`${name} autoencoder: predictions and 3 Adam steps agree to 1e-4 relative, gradients to 1e-3`, () => {
      const js = run('js', preset, x),
        wa = run('wasm', preset, x);
      expect(relErr(wa.pred, js.pred), 'predictions').to.be.below(1e-4);
      js.grads.forEach((g, i) => expect(relErr(wa.grads[i], g), `gradient ${i}`).to.be.below(1e-3));
      js.after.forEach((w, i) => expect(relErr(wa.after[i], w), `weight ${i} after 3 steps`).to.be.below(1e-4));
      expect(relErr(wa.pred3, js.pred3), 'predictions after 3 steps').to.be.below(1e-4);
    });
  }

  it('builds workspaces on the wasm kernels only under the wasm backend', () => {
    setBackend('wasm');
    const m = lstmAutoencoder({ window: 5, features: 2, units: 4, seed: 1 });
    m.predict(data(2, 5, 2, 'w'));
    const ws = (
      m.layers[0] as unknown as { cache: { get(k: string, f: () => unknown): { ws: { ops: { name: string } } } } }
    ).cache.get('5x2', () => {
      throw new Error('no workspace');
    });
    expect(ws.ws.ops.name).to.equal('wasm');
    setBackend('js');
    const j = lstmAutoencoder({ window: 5, features: 2, units: 4, seed: 1 });
    j.predict(data(2, 5, 2, 'w'));
    const wj = (
      j.layers[0] as unknown as { cache: { get(k: string, f: () => unknown): { ws: { ops: { name: string } } } } }
    ).cache.get('5x2', () => {
      throw new Error('no workspace');
    });
    expect(wj.ws.ops.name).to.equal('js');
  });

  it('detector: streaming stays bit-identical to batch detect under wasm', () => {
    setBackend('wasm');
    const rng = makeRng('stream');
    const multi = Array.from({ length: 500 }, (_, t) => [Math.sin(t / 6) + 0.1 * (rng() - 0.5), Math.cos(t / 9)]);
    for (const model of ['lstm-ae', 'gru-ae', 'lstm-forecast'] as const) {
      const d = new Detector({ model, window: 16, hidden: 8, epochs: 2, seed: 3 }).fit(multi.slice(0, 300));
      const b = d.detect(multi);
      const s = d.stream();
      let n = 0;
      const check = (o: { index: number; score: number; flag: number }): void => {
        n++;
        expect(o.score, `${model} score at ${o.index}`).to.equal(b.scores[o.index]);
        expect(o.flag, `${model} flag at ${o.index}`).to.equal(b.flags[o.index]);
      };
      for (const p of multi) {
        const o = s.push(p);
        if (o) check(o);
      }
      for (const o of s.flush()) check(o);
      expect(n).to.equal(500 - b.firstScored);
    }
  });
});
