/**
 * lib/memory.ts: the estimate matches what a model really allocates, and sizes that cannot fit are refused by build,
 * fit and predict with a MemoryLimitError that gives the figure and the limit, before anything large is allocated.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { Sequential } from '../../lib/model/sequential';
import { lstm } from '../../lib/model/layers/recurrent';
import { dense, timeDistributed } from '../../lib/model/layers/dense';
import { repeatVector } from '../../lib/model/layers/shape';
import { lstmAutoencoder } from '../../lib/model/presets';
import { getBackend } from '../../lib/backend';
import { ArgumentError, MemoryLimitError } from '../../lib/errors';
import { MAX_ARRAY_BYTES, MAX_ARENA_BYTES, checkModelMemory, estimateModelMemory, formatBytes } from '../../lib/memory';
import { coreEnv } from '../helpers/proc';

const LIB = path.resolve(__dirname, '../../lib');

function thrown(fn: () => unknown): MemoryLimitError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(MemoryLimitError);
    expect(e).to.be.instanceOf(ArgumentError);
    return e as MemoryLimitError;
  }
  throw new Error('expected a MemoryLimitError');
}

describe('lib/memory', function () {
  this.timeout(60000);

  it('the estimate is within 15-20% of the bytes a model really allocates to train (js path, fresh process)', () => {
    // arrayBuffers counts typed-array memory; measured around build + one epoch in a process of its own, after gc.
    const script = `
      const [lib, preset, dtype, units, T, B] = JSON.parse(process.argv[1]);
      const { setBackend } = require(lib + '/backend');
      const P = require(lib + '/model/presets');
      const { estimateModelMemory } = require(lib + '/memory');
      setBackend('js');
      const N = 2 * B, x = new Float64Array(N * T);
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(i / 7);
      const xt = { data: x, shape: [N, T, 1] };
      global.gc(); const before = process.memoryUsage().arrayBuffers;
      const m = P[preset]({ window: T, features: 1, units, seed: 1, dtype });
      m.fit(xt, xt, { epochs: 1, batchSize: B, workers: 1 });
      global.gc(); const after = process.memoryUsage().arrayBuffers;
      const e = estimateModelMemory(m.layers, [T, 1], B, dtype === 'float32' ? Float32Array : Float64Array);
      process.stdout.write(JSON.stringify({ measured: after - before, estimated: e.bytes }));`;
    const cases: Array<[string, string, number[], number, number]> = [
      ['lstmAutoencoder', 'float64', [64, 16], 48, 32],
      ['gruAutoencoder', 'float64', [64, 16], 48, 32],
      ['rnnAutoencoder', 'float32', [128], 48, 16],
      // (A model of ~2 MiB measured between 2.09 and 2.48 MiB from run to run: Node's own buffers move that much, so
      // the cases here are large enough for a 15-20 % bound to be about the estimate, not the noise.)
      ['lstmAutoencoder', 'float32', [128], 64, 32],
      ['denseAutoencoder', 'float32', [256, 32], 128, 64],
    ];
    for (const [preset, dtype, units, T, B] of cases) {
      const r = spawnSync(
        process.execPath,
        ['--expose-gc', '-e', script, JSON.stringify([LIB, preset, dtype, units, T, B])],
        { encoding: 'utf8', env: coreEnv() },
      );
      expect(r.status, r.stderr).to.equal(0);
      const { measured, estimated } = JSON.parse(r.stdout) as { measured: number; estimated: number };
      const label = `${preset} ${dtype} units ${units} window ${T} batch ${B}: measured ${formatBytes(measured)}, estimated ${formatBytes(estimated)}`;
      expect(measured, label).to.be.above(1e6);
      expect(estimated / measured, label).to.be.within(0.85, 1.2);
    }
  });

  it('build refuses 100,000 LSTM units before allocating: the array, its size, the limit', () => {
    const e = thrown(() => lstmAutoencoder({ window: 32, features: 1, units: 100000 }));
    expect(e.where).to.equal('Sequential.build');
    expect(e.limitName).to.equal('MAX_ARRAY_BYTES');
    expect(e.limit).to.equal(MAX_ARRAY_BYTES);
    expect(e.bytes).to.equal(100000 * 400000 * 4);
    expect(e.message).to.equal(`Sequential.build: ${e.detail}`);
    expect(e.detail).to.match(
      /^the model is too large to allocate \(input \[32, 1\], batch 1, float32\): lstm recurrent_kernel \[100000, 400000\] needs 149 GiB in one array, over the limit of 2 GiB per array \(MAX_ARRAY_BYTES\); the whole model would need [\d.]+ TiB$/,
    );
  });

  it('repeatVector(1e9) before a recurrent layer, and dense(1e9 units): refused at build, layers left unbuilt', () => {
    const m = new Sequential([
      lstm({ units: 4, inputShape: [8, 1] }),
      repeatVector({ n: 1e9 }),
      lstm({ units: 4, returnSequences: true }),
      timeDistributed(dense({ units: 1 })),
    ]);
    const e = thrown(() => m.build());
    expect(e.limitName).to.equal('MAX_ARRAY_BYTES');
    // On the wasm path the largest plain array is the layer's dx [T, B, D]; on js its workspace's a [T, B, 4H].
    expect(e.detail).to.match(
      getBackend() === 'wasm'
        ? /lstm_1 dx \[1000000000, 1, 4\] needs 14.9 GiB in one array, over the limit of 2 GiB per array/
        : /a buffer of the lstm_1 workspace \(window 1000000000, batch 1, 4 units\) needs 59.6 GiB in one array, over the limit of 2 GiB per array/,
    );
    expect(m.built).to.equal(false);
    expect(m.layers.map((l) => l.isBuilt())).to.deep.equal([false, false, false, false]);
    const d = new Sequential([dense({ units: 1e9, inputShape: [3] })]);
    expect(thrown(() => d.build()).detail).to.match(/dense kernel \[3, 1000000000\] needs 11.2 GiB in one array/);
  });

  it('the wasm limit is per layer workspace: the same model fits on the js path and not on wasm', () => {
    // LSTM, 64 units, 1.5M steps: a and dz [T, 1, 256] are 1.5 GB each (under 2 GiB), 8.8 GB together with h, c, φ(c).
    const make = (): Sequential => new Sequential([lstm({ units: 64, inputShape: [1_500_000, 1] })]);
    if (getBackend() === 'wasm') {
      const e = thrown(() => make().build());
      expect(e.limitName).to.equal('MAX_ARENA_BYTES');
      expect(e.limit).to.equal(MAX_ARENA_BYTES);
      expect(e.bytes).to.be.above(MAX_ARENA_BYTES);
    } else {
      const est = checkModelMemory(make().layers, [1_500_000, 1], 1, Float32Array, 'test', { total: 1e12 });
      expect(est.arena.bytes).to.equal(0);
      expect(est.largest.bytes).to.be.below(MAX_ARRAY_BYTES);
    }
    // float64 never uses the wasm path.
    expect(estimateModelMemory(make().layers, [1_500_000, 1], 1, Float64Array).arena.bytes).to.equal(0);
  });

  it('fit and predict check their batch size: what fits at batch 1 can be too large at batch 600', () => {
    const m = new Sequential([lstm({ units: 256, inputShape: [1000, 1] })]).build();
    const x = { data: new Float32Array(600 * 1000), shape: [600, 1000, 1] };
    const y = { data: new Float32Array(600 * 256), shape: [600, 256] };
    const f = thrown(() => m.fit(x, y, { epochs: 1, batchSize: 600, workers: 1 }));
    expect(f.where).to.equal('fit(batchSize)');
    expect(f.message).to.match(
      /^fit\(batchSize\): the model is too large to allocate \(input \[1000, 1\], batch 600, float32\)/,
    );
    const p = thrown(() => m.predict(x, { batchSize: 1000, workers: 1 }));
    expect(p.message).to.match(/^predict\(batchSize\): .*batch 600,/); // min(batchSize, N)
  });

  it('the total limit: the figure, what the parameters take, and the memory there is', () => {
    const layers = new Sequential([lstm({ units: 32, inputShape: [16, 1] })]).layers;
    const est = estimateModelMemory(layers, [16, 1], 4, Float32Array);
    expect(checkModelMemory(layers, [16, 1], 4, Float32Array, 'x', { total: est.bytes }).bytes).to.equal(est.bytes);
    const e = thrown(() => checkModelMemory(layers, [16, 1], 4, Float32Array, 'x', { total: est.bytes - 1 }));
    expect(e.limitName).to.equal('total memory');
    expect(e.bytes).to.equal(est.bytes);
    expect(e.detail).to.contain(
      `it needs ${formatBytes(est.bytes)} (parameters with gradients and optimizer state ${formatBytes(est.paramBytes)}), ` +
        `more than the ${formatBytes(est.bytes - 1)} of memory there is`,
    );
    // Parameters: (1·128 + 32·128 + 128) weights, each held 6 times, 4 bytes.
    expect(est.paramBytes).to.equal((128 + 32 * 128 + 128) * 6 * 4);
  });

  it('formatBytes', () => {
    expect([512, 1536, 2 ** 31, 40e9, 1.6e11].map(formatBytes)).to.deep.equal([
      '512 B',
      '1.5 KiB',
      '2 GiB',
      '37.3 GiB',
      '149 GiB',
    ]);
  });
});
