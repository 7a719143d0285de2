/**
 * lib/model/layers/dense.ts on the two float32 backends: under 'wasm' the layer's buffers live in an arena of its own and the
 * products and bias add run on the WebAssembly SIMD kernels; under 'js' on matmul.ts. Forward and backward of Dense on
 * [N, D] and TimeDistributed(Dense) on [T, N, D] agree within the products' rounding bound (stated below), for every
 * activation, several batch sizes in turn (one arena per cached batch size), with and without bias.
 */
import { expect } from 'chai';
import { type Backend, getBackend, setBackend } from '../../../../lib/backend';
import { Dense, TimeDistributed } from '../../../../lib/model/layers/dense';
import { wasmSimdAvailable } from '../../../../kernels/wasm/arena';
import { makeRng, uniform32 } from '../../../helpers/rng';

const CTX = { training: true, random: null };
const EPS = 2 ** -24;

/**
 * |wasm − js| ≤ 8·(K + 2)·2⁻²⁴·scale + 2⁻²³·max(1, |js|), where K is the length of the sums behind the element and scale
 * the sum of the magnitudes of their terms (computed here in float64): the wasm products sum in f32 and matmul.ts in
 * float64, which differ by at most (K + 2)·2⁻²⁴·scale (module.ts's numeric contract); the factor 8 covers the
 * activation and its derivative taken from two slightly different outputs, the second term the f32 rounding of results.
 */
function expectWithin(
  label: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  K: number,
  scale: ArrayLike<number>,
): void {
  expect(got.length, `${label} length`).to.be.at.least(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i],
      w = want[i];
    const tol = 8 * (K + 2) * EPS * scale[i] + 2 * EPS * Math.max(1, Math.abs(w));
    if (!(Math.abs(g - w) <= tol)) expect.fail(`${label}[${i}]: wasm ${g}, js ${w}, tolerance ${tol}`);
  }
}

interface Run {
  y: Float32Array;
  dW: Float32Array;
  db: Float32Array;
  dx: Float32Array;
  onArena: boolean;
}

describe('lib/model/layers/dense.ts on the wasm backend', function () {
  let saved: Backend;
  before(function () {
    if (!wasmSimdAvailable()) this.skip();
    saved = getBackend();
  });
  after(() => {
    if (saved !== undefined) setBackend(saved);
  });

  const CASES: { name: string; T: number; D: number; U: number }[] = [
    { name: 'Dense [N, D]', T: 0, D: 7, U: 5 },
    { name: 'Dense [N, D], one unit', T: 0, D: 32, U: 1 },
    { name: 'TimeDistributed(Dense) [T, N, D]', T: 6, D: 17, U: 3 },
    { name: 'TimeDistributed(Dense) [T, N, D], one feature', T: 32, D: 32, U: 1 },
    { name: 'TimeDistributed(Dense) [T, N, D], wide', T: 3, D: 9, U: 70 },
  ];
  for (const c of CASES)
    for (const activation of ['linear', 'tanh', 'sigmoid', 'relu'])
      for (const useBias of [true, false]) {
        it(`${c.name} T=${c.T} D=${c.D} units=${c.U} ${activation}${useBias ? '' : ' no bias'}: forward and backward agree with js`, () => {
          const rng = makeRng(`dense-wasm-${c.name}-${activation}-${useBias}`);
          const shape = c.T > 0 ? [c.T, c.D] : [c.D];
          const make = (): Dense | TimeDistributed => {
            const dense = new Dense({ units: c.U, activation, useBias });
            const layer = c.T > 0 ? new TimeDistributed(dense) : dense;
            layer.build(shape, Float32Array, 'dense-wasm');
            return layer;
          };
          const js = make(),
            wa = make();
          const bias = uniform32(c.U, rng);
          for (const layer of [js, wa]) if (useBias) (layer.params()[1]?.value as Float32Array).set(bias);
          const W = js.params()[0]?.value as Float32Array;
          for (const N of [5, 1, 17, 5, 2, 9]) {
            // more batch sizes than the cache holds (3): arenas are rebuilt
            const M = (c.T > 0 ? c.T : 1) * N;
            const x = uniform32(M * c.D, rng, -2, 2),
              dy = uniform32(M * c.U, rng);
            const run = (layer: Dense | TimeDistributed, backend: Backend): Run => {
              setBackend(backend); // read when the layer makes the buffers of a new batch size
              for (const p of layer.params()) p.grad.fill(0);
              const y = layer.forward(x, N, CTX);
              const yCopy = Float32Array.from(y);
              const dx = layer.backward(Float32Array.from(dy), true) as Float32Array;
              const [k, b] = layer.params();
              return {
                y: yCopy,
                dW: Float32Array.from(k?.grad ?? []),
                db: Float32Array.from(b?.grad ?? []),
                dx: Float32Array.from(dx),
                onArena: y.byteOffset > 0,
              };
            };
            const want = run(js, 'js'),
              got = run(wa, 'wasm');
            expect([got.onArena, want.onArena], 'wasm buffers in an arena, js ones plain').to.deep.equal([true, false]);
            // Scales of the sums (float64): y: |b| + Σ_k |x·W|;  dW: Σ_m |x|·|dy|;  db: Σ_m |dy|;  dx: Σ_j |dy|·|W|.
            const sy = new Float64Array(M * c.U),
              sW = new Float64Array(c.D * c.U),
              sb = new Float64Array(c.U),
              sx = new Float64Array(M * c.D);
            for (let m = 0; m < M; m++)
              for (let j = 0; j < c.U; j++) {
                const d = Math.abs(dy[m * c.U + j]);
                sb[j] = sb[j] + d;
                let s = useBias ? Math.abs(bias[j]) : 0;
                for (let k = 0; k < c.D; k++) {
                  const xv = Math.abs(x[m * c.D + k]),
                    wv = Math.abs(W[k * c.U + j]);
                  s += xv * wv;
                  sW[k * c.U + j] = sW[k * c.U + j] + xv * d;
                  sx[m * c.D + k] = sx[m * c.D + k] + d * wv;
                }
                sy[m * c.U + j] = s;
              }
            expectWithin(`N=${N} y`, got.y, want.y, c.D, sy);
            expectWithin(`N=${N} dW`, got.dW, want.dW, M, sW);
            if (useBias) expectWithin(`N=${N} db`, got.db, want.db, M, sb);
            expectWithin(`N=${N} dx`, got.dx, want.dx, c.U, sx);
          }
        });
      }
});
