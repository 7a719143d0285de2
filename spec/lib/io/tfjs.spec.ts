/**
 * lib/io/tfjs.ts: the TensorFlow.js layers format. Numerical parity of every layer type lives in spec/lib/parity.spec.ts;
 * this file checks the format: names, wrappers, files, the Keras variants TensorFlow.js itself cannot load, and errors.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Sequential } from '../../../lib/model/sequential';
import { bidirectional, dense, gru, lstm, simpleRNN, timeDistributed } from '../../../lib/model/layers/index';
import { saveTfjsModel, saveTfjsModelSync, toTfjs, type TfjsArtifactsInput } from '../../../lib/io/tfjs';
import { fromTfjs, loadTfjsModel, loadTfjsModelSync } from '../../../lib/model/loaders';
import { makeRng, uniformScaled32 as uniform } from '../../helpers/rng';
import { maxAbs } from '../../helpers/oracle';
import { ArgumentError } from '../../../lib/errors';

function fixtureDir(): string {
  let dir = __dirname;
  for (;;) {
    const f = path.join(dir, 'spec', 'fixtures', 'interop');
    if (fs.existsSync(f)) return f;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('spec/fixtures/interop not found above ' + __dirname);
    dir = up;
  }
}

async function artifactsOf(model: tf.LayersModel, includeOptimizer = false): Promise<tf.io.ModelArtifacts> {
  let out: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      out = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer },
  );
  if (out === null) throw new Error('save handler not called');
  return out;
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

function weightBytes(a: tf.io.ModelArtifacts): Uint8Array {
  const d = a.weightData;
  if (d instanceof ArrayBuffer) return new Uint8Array(d);
  return Buffer.concat((d as ArrayBuffer[]).map((b) => new Uint8Array(b)));
}

function tfPredict(model: tf.LayersModel, x: Float32Array, shape: number[]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(x, shape)) as tf.Tensor).dataSync() as Float32Array);
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * Keras 2 GRU with reset_after=True, written from the Keras equations with scalar loops (not bptt's kernels).
 * W[D, 3H], U[H, 3H] with columns z|r|h; b[2, 3H]: row 0 input bias b_x, row 1 recurrent bias b_h.
 *   z = σ(x·W_z + b_xz + h·U_z + b_hz);  r = σ(x·W_r + b_xr + h·U_r + b_hr)
 *   ĥ = tanh(x·W_h + b_xh + r ⊙ (h·U_h + b_hh));  h' = z ⊙ h + (1 − z) ⊙ ĥ
 * x[T][D] → every h_t (T arrays of H).
 */
function kerasGruResetAfter(
  x: number[][],
  W: ArrayLike<number>,
  U: ArrayLike<number>,
  b: ArrayLike<number>,
  H: number,
): number[][] {
  const D = x[0].length,
    G = 3 * H;
  let h = new Array<number>(H).fill(0);
  const out: number[][] = [];
  for (const xt of x) {
    const next: number[] = [];
    for (let j = 0; j < H; j++) {
      const gate = (g: number): { xp: number; hp: number } => {
        let xp = b[g * H + j],
          hp = b[G + g * H + j];
        for (let d = 0; d < D; d++) xp += xt[d] * W[d * G + g * H + j];
        for (let k = 0; k < H; k++) hp += h[k] * U[k * G + g * H + j];
        return { xp, hp };
      };
      const zg = gate(0),
        rg = gate(1),
        hg = gate(2);
      const z = sigmoid(zg.xp + zg.hp),
        r = sigmoid(rg.xp + rg.hp);
      const hh = Math.tanh(hg.xp + r * hg.hp);
      next.push(z * h[j] + (1 - z) * hh);
    }
    h = next;
    out.push(h);
  }
  return out;
}

const tmpDirs: string[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-tfjs-'));
  tmpDirs.push(d);
  return d;
}

const sig = { recurrentActivation: 'sigmoid' } as const;

describe('lib/io/tfjs', function () {
  this.timeout(60000);

  before(async () => {
    tf.enableProdMode();
    await tf.setBackend('cpu');
  });

  after(() => {
    for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
  });

  describe('names and formats TensorFlow.js 4.22 writes', () => {
    it('model.save names weights <layer>/<param>, <bidirectional>/forward_<inner>/<param>, <time_distributed>/<param>', async () => {
      const tm = tf.sequential({
        layers: [
          tf.layers.lstm({ units: 3, ...sig, returnSequences: true, inputShape: [4, 2] }),
          tf.layers.bidirectional({ layer: tf.layers.gru({ units: 2, ...sig, returnSequences: true }) }),
          tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 1 }) }),
        ],
      });
      const a = await artifactsOf(tm);
      const names = (a.weightSpecs ?? []).map((s) => s.name);
      expect(names).to.have.length(11);
      expect(names[0]).to.match(/^lstm_LSTM\d+\/kernel$/);
      expect(names[1]).to.match(/^lstm_LSTM\d+\/recurrent_kernel$/);
      expect(names[3]).to.match(/^bidirectional_Bidirectional\d+\/forward_gru_GRU\d+\/kernel$/);
      expect(names[6]).to.match(/^bidirectional_Bidirectional\d+\/backward_gru_GRU\d+\/kernel$/);
      expect(names[9]).to.match(/^time_distributed_TimeDistributed\d+\/kernel$/); // not the inner Dense's name
      const top = a.modelTopology as {
        class_name: string;
        config: { layers: { class_name: string; config: Record<string, unknown> }[] };
      };
      expect(top.class_name).to.equal('Sequential');
      const l0 = (top.config.layers[0] as { config: Record<string, unknown> }).config;
      expect(l0['batch_input_shape']).to.deep.equal([null, 4, 2]);
      expect(l0['recurrent_activation']).to.equal('sigmoid');
      expect(l0['unit_forget_bias']).to.equal(null); // tfjs writes null here
      const gruCfg = (top.config.layers[1]?.config['layer'] as { config: Record<string, unknown> }).config;
      expect(gruCfg['reset_after']).to.equal(false); // the classic GRU
      expect(a.trainingConfig).to.equal(undefined); // only with save({ includeOptimizer: true })
      const m = fromTfjs(a);
      expect(m.layers.map((l) => l.name)).to.deep.equal(top.config.layers.map((l) => l.config['name']));
      tm.dispose();
    });

    it('toTfjs writes the names tfjs itself would: loading and re-saving in tfjs keeps every name and value', async () => {
      const m = new Sequential([
        lstm({ units: 3, ...sig, returnSequences: true }),
        bidirectional(gru({ units: 2, ...sig, resetAfter: false, returnSequences: true })),
        timeDistributed(dense({ units: 1 })),
      ]).build([4, 2]);
      const ours = toTfjs(m);
      expect(ours.weightSpecs.map((s) => s.name)).to.deep.equal([
        'lstm/kernel',
        'lstm/recurrent_kernel',
        'lstm/bias',
        'bidirectional/forward_gru/kernel',
        'bidirectional/forward_gru/recurrent_kernel',
        'bidirectional/forward_gru/bias',
        'bidirectional/backward_gru/kernel',
        'bidirectional/backward_gru/recurrent_kernel',
        'bidirectional/backward_gru/bias',
        'time_distributed/kernel',
        'time_distributed/bias',
      ]);
      expect(ours.format).to.equal('layers-model');
      expect(ours.convertedBy).to.equal(null);
      const tm = await tf.loadLayersModel(tf.io.fromMemory(ours));
      const again = await artifactsOf(tm);
      expect((again.weightSpecs ?? []).map((s) => s.name)).to.deep.equal(ours.weightSpecs.map((s) => s.name));
      expect(Array.from(weightBytes(again))).to.deep.equal(Array.from(new Uint8Array(ours.weightData)));
      tm.dispose();
    });

    it('reads weightData given as a list of ArrayBuffers, and camelCase config keys', async () => {
      const tm = tf.sequential({
        layers: [tf.layers.simpleRNN({ units: 3, inputShape: [4, 2] }), tf.layers.dense({ units: 2 })],
      });
      const a = await artifactsOf(tm);
      const bytes = weightBytes(a);
      const parts = [bytes.slice(0, 10), bytes.slice(10, 11), bytes.slice(11)].map(toArrayBuffer);
      const top = JSON.parse(JSON.stringify(a.modelTopology)) as {
        config: { layers: { config: Record<string, unknown> }[] };
      };
      const c0 = top.config.layers[0].config;
      c0['batchInputShape'] = c0['batch_input_shape'];
      delete c0['batch_input_shape'];
      c0['returnSequences'] = c0['return_sequences'];
      delete c0['return_sequences'];
      const m = fromTfjs({ modelTopology: top, weightSpecs: a.weightSpecs ?? [], weightData: parts });
      const x = uniform(2 * 4 * 2, makeRng('tfjs/parts/x'), 1);
      expect(maxAbs(m.predict({ data: x, shape: [2, 4, 2] }).data, tfPredict(tm, x, [2, 4, 2]))).to.be.at.most(1e-6);
      tm.dispose();
    });

    it('dequantizes uint8, uint16 and float16 weights as tf.io.decodeWeights does', () => {
      const topology = {
        class_name: 'Sequential',
        config: {
          name: 'q',
          layers: [
            { class_name: 'SimpleRNN', config: { name: 'rnn', units: 2, batch_input_shape: [null, 3, 2] } },
            { class_name: 'Dense', config: { name: 'out', units: 1 } },
          ],
        },
      };
      const rng = makeRng('tfjs/quant');
      const specs: tf.io.WeightsManifestEntry[] = [
        {
          name: 'rnn/kernel',
          shape: [2, 2],
          dtype: 'float32',
          quantization: { dtype: 'uint8', scale: 0.01, min: -0.6 },
        },
        {
          name: 'rnn/recurrent_kernel',
          shape: [2, 2],
          dtype: 'float32',
          quantization: { dtype: 'uint16', scale: 1e-4, min: -0.3 },
        },
        { name: 'rnn/bias', shape: [2], dtype: 'float32', quantization: { dtype: 'float16' } },
        { name: 'out/kernel', shape: [2, 1], dtype: 'float32' },
        { name: 'out/bias', shape: [1], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.02, min: 0.1 } },
      ];
      const bytes: number[] = [];
      const f16 = [0x3555, 0xb800]; // 0.333251953125, -0.5
      for (let i = 0; i < 4; i++) bytes.push(Math.floor(rng() * 256));
      for (let i = 0; i < 4; i++) {
        const v = Math.floor(rng() * 65536);
        bytes.push(v & 255, v >> 8);
      }
      for (const h of f16) bytes.push(h & 255, h >> 8);
      const f32 = new Uint8Array(Float32Array.of(0.25, -0.75).buffer);
      bytes.push(...f32, 200);
      const buffer = toArrayBuffer(Uint8Array.from(bytes));
      const expected = tf.io.decodeWeights(buffer, specs);
      const m = fromTfjs({ modelTopology: topology, weightSpecs: specs, weightData: buffer });
      m.weights().forEach((w, i) => {
        const spec = specs[i];
        expect(Array.from(w.value), spec.name).to.deep.equal(Array.from(expected[spec.name].dataSync()));
      });
      expect(Array.from(m.weights()[2]?.value ?? [])).to.deep.equal([0.333251953125, -0.5]);
    });

    it('matches Keras 3 numbered weight names (layer/0, layer/1, …) by position', async () => {
      const tm = tf.sequential({
        layers: [tf.layers.lstm({ units: 3, ...sig, inputShape: [4, 2] }), tf.layers.dense({ units: 1 })],
      });
      const a = await artifactsOf(tm);
      const counts = new Map<string, number>();
      const specs = (a.weightSpecs ?? []).map((s) => {
        const layer = s.name.split('/')[0];
        const k = counts.get(layer) ?? 0;
        counts.set(layer, k + 1);
        return { ...s, name: `${layer}/${k}` };
      });
      const m = fromTfjs({ ...a, weightSpecs: specs });
      const x = uniform(3 * 4 * 2, makeRng('tfjs/k3/x'), 1);
      expect(maxAbs(m.predict({ data: x, shape: [3, 4, 2] }).data, tfPredict(tm, x, [3, 4, 2]))).to.be.at.most(1e-6);
      tm.dispose();
    });
  });

  describe('a Keras model converted for TensorFlow.js (fixture on disk)', () => {
    const file = (): string => path.join(fixtureDir(), 'keras_converted', 'model.json');

    async function tfOracle(): Promise<tf.LayersModel> {
      const json = JSON.parse(fs.readFileSync(file(), 'utf8')) as {
        modelTopology: object;
        weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
      };
      const g = json.weightsManifest[0];
      const data = Buffer.concat(g.paths.map((p) => fs.readFileSync(path.join(path.dirname(file()), p))));
      return tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: json.modelTopology,
          weightSpecs: g.weights,
          weightData: toArrayBuffer(data),
        }),
      );
    }

    it('loadTfjsModel reads model_config, InputLayer, cell-named weights across two shards, and training_config', async () => {
      const m = await loadTfjsModel(file());
      expect(m.layers.map((l) => `${l.name}:${l.className}`)).to.deep.equal([
        'lstm:LSTM',
        'bidirectional:Bidirectional',
        'time_distributed:TimeDistributed',
      ]);
      expect(m.getInputShape()).to.deep.equal([5, 2]);
      expect(m.loss).to.equal('mse');
      // Weight element i is float32(0.5·sin(1.3·i + 0.7)) in manifest order (spec/fixtures/interop/README.md).
      const flat = m.getWeights().flatMap((w) => Array.from(w));
      expect(flat).to.have.length(149);
      flat.forEach((v, i) => expect(v).to.equal(Math.fround(0.5 * Math.sin(1.3 * i + 0.7))));
      const tm = await tfOracle();
      const x = uniform(4 * 5 * 2, makeRng('tfjs/keras/x'), 1);
      const d = maxAbs(m.predict({ data: x, shape: [4, 5, 2] }).data, tfPredict(tm, x, [4, 5, 2]));
      expect(d).to.be.at.most(1e-5);
      const s = loadTfjsModelSync(file());
      expect(Array.from(s.predict({ data: x, shape: [4, 5, 2] }).data)).to.deep.equal(
        Array.from(m.predict({ data: x, shape: [4, 5, 2] }).data),
      );
      tm.dispose();
    });
  });

  describe('Keras 2 GRU with reset_after true (TensorFlow.js cannot load it)', () => {
    const fixture = (): { modelTopology: object; weightSpecs: tf.io.WeightsManifestEntry[] } =>
      JSON.parse(fs.readFileSync(path.join(fixtureDir(), 'keras_gru_reset_after.json'), 'utf8'));

    function weightsFor(specs: tf.io.WeightsManifestEntry[]): Float32Array[] {
      const rng = makeRng('tfjs/gru-ra/w');
      return specs.map((s) =>
        uniform(
          s.shape.reduce((a, b) => a * b, 1),
          rng,
          0.8,
        ),
      );
    }

    function concat(ws: Float32Array[]): ArrayBuffer {
      const all = new Float32Array(ws.reduce((s, w) => s + w.length, 0));
      let o = 0;
      for (const w of ws) {
        all.set(w, o);
        o += w.length;
      }
      return all.buffer;
    }

    function reference(ws: Float32Array[], x: Float32Array, N: number): number[] {
      const [W1, U1, b1, W2, U2, b2, K, c] = ws as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      const out: number[] = [];
      for (let n = 0; n < N; n++) {
        const seq = Array.from({ length: 4 }, (_, t) => [x[(n * 4 + t) * 2], x[(n * 4 + t) * 2 + 1]]);
        const h1 = kerasGruResetAfter(seq, W1, U1, b1, 3);
        const h2 = kerasGruResetAfter(h1, W2, U2, b2, 2);
        const last = h2[h2.length - 1];
        out.push(c[0] + last[0] * K[0] + last[1] * K[1]);
      }
      return out;
    }

    it('fromTfjs predicts what the reset-after equations give (scalar reference), ≤ 1e-5', () => {
      const f = fixture();
      const ws = weightsFor(f.weightSpecs);
      const m = fromTfjs({ ...f, weightData: concat(ws) });
      expect(m.layers.map((l) => [l.className, (l as unknown as { resetAfter?: boolean }).resetAfter])).to.deep.equal([
        ['GRU', true],
        ['GRU', true],
        ['Dense', undefined],
      ]);
      expect(m.weights().map((w) => w.shape)).to.deep.equal([
        [2, 9],
        [3, 9],
        [2, 9],
        [3, 6],
        [2, 6],
        [2, 6],
        [2, 1],
        [1],
      ]);
      const N = 5;
      const x = uniform(N * 4 * 2, makeRng('tfjs/gru-ra/x'), 1.5);
      const got = m.predict({ data: x, shape: [N, 4, 2] }).data;
      const want = reference(ws, x, N);
      expect(maxAbs(got, want)).to.be.at.most(1e-5);
      const f64 = fromTfjs({ ...f, weightData: concat(ws) }, { dtype: 'float64' });
      expect(maxAbs(f64.predict({ data: x, shape: [N, 4, 2] }).data, want)).to.be.at.most(1e-12);
    });

    it('infers reset_after from the bias shape when the key is absent', () => {
      const f = fixture();
      const top = JSON.parse(JSON.stringify(f.modelTopology)) as {
        model_config: { config: { layers: { config: Record<string, unknown> }[] } };
      };
      delete top.model_config.config.layers[1]?.config['reset_after'];
      const ws = weightsFor(f.weightSpecs);
      const m = fromTfjs({ modelTopology: top, weightSpecs: f.weightSpecs, weightData: concat(ws) });
      expect((m.layers[0] as unknown as { resetAfter: boolean }).resetAfter).to.equal(true);
      const x = uniform(2 * 4 * 2, makeRng('tfjs/gru-ra/x2'), 1);
      expect(maxAbs(m.predict({ data: x, shape: [2, 4, 2] }).data, reference(ws, x, 2))).to.be.at.most(1e-5);
    });

    it('toTfjs refuses a resetAfter GRU (tfjs 4.22 cannot load it) unless allowResetAfter; then tfjs rejects it and fromTfjs reads it', async () => {
      const m = new Sequential([gru({ units: 3, returnSequences: true }), dense({ units: 1 })]).build([4, 2]);
      expect(() => toTfjs(m)).to.throw(
        ArgumentError,
        /layer 'gru' \(GRU\) is a GRU with resetAfter true.*resetAfter: false.*allowResetAfter/,
      );
      const a = toTfjs(m, { allowResetAfter: true });
      const cfg = (a.modelTopology['config'] as { layers: { config: Record<string, unknown> }[] }).layers[0].config;
      expect(cfg['reset_after']).to.equal(true);
      expect(a.weightSpecs[2]).to.deep.equal({ name: 'gru/bias', shape: [2, 9], dtype: 'float32' });
      let err: unknown = null;
      try {
        await tf.loadLayersModel(tf.io.fromMemory(a));
      } catch (e) {
        err = e;
      }
      expect(String(err)).to.match(/reset_after/);
      const back = fromTfjs(a);
      const x = uniform(3 * 4 * 2, makeRng('tfjs/gru-ra/x3'), 1);
      expect(Array.from(back.predict({ data: x, shape: [3, 4, 2] }).data)).to.deep.equal(
        Array.from(m.predict({ data: x, shape: [3, 4, 2] }).data),
      );
    });
  });

  describe('files', () => {
    it('saveTfjsModel writes weights.bin and model.json atomically; loadTfjsModel and tfjs read them back', async () => {
      const dir = path.join(tmpDir(), 'nested', 'model');
      const m = new Sequential([lstm({ units: 3, ...sig }), dense({ units: 2, activation: 'sigmoid' })]).build([5, 2]);
      m.compile({ loss: 'binaryCrossentropy' });
      await saveTfjsModel(m, dir);
      expect(fs.readdirSync(dir).sort()).to.deep.equal(['model.json', 'weights.bin']);
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
      expect(json['weightsManifest']).to.deep.equal([{ paths: ['./weights.bin'], weights: toTfjs(m).weightSpecs }]);
      expect(json['format']).to.equal('layers-model');
      expect(json['trainingConfig']).to.deep.include({ loss: 'binary_crossentropy' });
      const back = await loadTfjsModel(path.join(dir, 'model.json'));
      expect(back.loss).to.equal('binaryCrossentropy');
      const x = uniform(3 * 5 * 2, makeRng('tfjs/files/x'), 1);
      const y = m.predict({ data: x, shape: [3, 5, 2] }).data;
      expect(Array.from(back.predict({ data: x, shape: [3, 5, 2] }).data)).to.deep.equal(Array.from(y));
      const bin = fs.readFileSync(path.join(dir, 'weights.bin'));
      const tm = await tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: json['modelTopology'] as object,
          weightSpecs: (json['weightsManifest'] as { weights: tf.io.WeightsManifestEntry[] }[])[0]?.weights ?? [],
          weightData: toArrayBuffer(bin),
          trainingConfig: json['trainingConfig'] as tf.io.TrainingConfig,
        }),
      );
      expect(maxAbs(tfPredict(tm, x, [3, 5, 2]), y)).to.be.at.most(1e-6);
      tm.dispose();
      // The sync twins, over the same directory (replacing both files).
      const m2 = new Sequential([simpleRNN({ units: 2 })]).build([5, 2]);
      saveTfjsModelSync(m2, dir);
      expect(fs.readdirSync(dir).sort()).to.deep.equal(['model.json', 'weights.bin']);
      const back2 = loadTfjsModelSync(path.join(dir, 'model.json'));
      expect(back2.loss).to.equal(null);
      expect(Array.from(back2.predict({ data: x, shape: [3, 5, 2] }).data)).to.deep.equal(
        Array.from(m2.predict({ data: x, shape: [3, 5, 2] }).data),
      );
    });

    it('loadTfjsModel errors name the file: bad JSON, a shard of the wrong size, a path outside the directory', async () => {
      const dir = tmpDir();
      const m = new Sequential([simpleRNN({ units: 2 })]).build([3, 1]);
      saveTfjsModelSync(m, dir);
      const file = path.join(dir, 'model.json');
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { weightsManifest: { paths: string[] }[] };

      fs.writeFileSync(path.join(dir, 'bad.json'), '{"modelTopology": ');
      expect(() => loadTfjsModelSync(path.join(dir, 'bad.json'))).to.throw(
        ArgumentError,
        /bad\.json\): not valid JSON/,
      );

      fs.writeFileSync(path.join(dir, 'short.bin'), fs.readFileSync(path.join(dir, 'weights.bin')).subarray(0, 8));
      json.weightsManifest[0].paths = ['short.bin'];
      fs.writeFileSync(path.join(dir, 'short.json'), JSON.stringify(json));
      expect(() => loadTfjsModelSync(path.join(dir, 'short.json'))).to.throw(
        ArgumentError,
        /short\.json\): weight group 0 \(short\.bin\) holds 8 bytes, its 3 weights need 32/,
      );

      json.weightsManifest[0].paths = ['../weights.bin'];
      fs.writeFileSync(path.join(dir, 'escape.json'), JSON.stringify(json));
      let err: unknown = null;
      try {
        await loadTfjsModel(path.join(dir, 'escape.json'));
      } catch (e) {
        err = e;
      }
      expect(String(err)).to.match(
        /escape\.json\): weight path "\.\.\/weights\.bin" points outside the model's directory/,
      );

      expect(() => loadTfjsModelSync(path.join(dir, 'missing.json'))).to.throw(/ENOENT/);
    });
  });

  describe('toTfjs', () => {
    it('a stateful model needs batchSize, which becomes the batch dimension tfjs requires', async () => {
      const m = new Sequential([lstm({ units: 2, ...sig, stateful: true })]).build([3, 1]);
      expect(() => toTfjs(m)).to.throw(ArgumentError, /stateful.*batchSize/);
      const a = toTfjs(m, { batchSize: 2 });
      const cfg = (a.modelTopology['config'] as { layers: { config: Record<string, unknown> }[] }).layers[0].config;
      expect(cfg['batch_input_shape']).to.deep.equal([2, 3, 1]);
      expect(cfg['stateful']).to.equal(true);
      const tm = await tf.loadLayersModel(tf.io.fromMemory(a));
      const x = uniform(2 * 3, makeRng('tfjs/stateful/x'), 1);
      const y1 = m.predict({ data: x, shape: [2, 3, 1] }, { batchSize: 2 }).data;
      const y2 = m.predict({ data: x, shape: [2, 3, 1] }, { batchSize: 2 }).data; // continues from the carried state
      expect(maxAbs(tfPredict(tm, x, [2, 3, 1]), y1)).to.be.at.most(1e-6);
      expect(maxAbs(tfPredict(tm, x, [2, 3, 1]), y2)).to.be.at.most(1e-6);
      const back = fromTfjs(a);
      expect((back.layers[0] as unknown as { stateful: boolean }).stateful).to.equal(true);
      tm.dispose();
    });

    it('refuses an unbuilt model and a bad batchSize', () => {
      expect(() => toTfjs(new Sequential([lstm({ units: 2 })]))).to.throw(/not built/);
      const m = new Sequential([lstm({ units: 2 })]).build([3, 1]);
      expect(() => toTfjs(m, { batchSize: 0 })).to.throw(ArgumentError, /batchSize/);
    });
  });

  describe('errors name the layer and the key', () => {
    let base: tf.io.ModelArtifacts;
    type L = { class_name: string; config: Record<string, unknown> };

    before(async () => {
      const tm = tf.sequential({
        layers: [
          tf.layers.lstm({ units: 2, ...sig, returnSequences: true, inputShape: [4, 3], name: 'enc' }),
          tf.layers.bidirectional({ layer: tf.layers.gru({ units: 2, ...sig, name: 'g' }), name: 'bi' }),
          tf.layers.dense({ units: 1, name: 'out' }),
        ],
      });
      base = await artifactsOf(tm);
      tm.dispose();
    });

    /** A deep copy of the base artifacts with the topology's layers edited. */
    function edit(f: (layers: L[], top: Record<string, unknown>) => void): TfjsArtifactsInput {
      const top = JSON.parse(JSON.stringify(base.modelTopology)) as Record<string, unknown>;
      f((top['config'] as { layers: L[] }).layers, top);
      return { modelTopology: top, weightSpecs: base.weightSpecs ?? [], weightData: base.weightData };
    }
    const cfg = (ls: L[], i: number): Record<string, unknown> => ls[i].config;
    const inner = (ls: L[]): Record<string, unknown> => (cfg(ls, 1)['layer'] as L).config;

    const cases: [string, (ls: L[], top: Record<string, unknown>) => void, RegExp][] = [
      [
        'return_state true',
        (ls) => {
          cfg(ls, 0)['return_state'] = true;
        },
        /layer 0 'enc' \(LSTM\): return_state true is not supported/,
      ],
      [
        "merge_mode 'sum'",
        (ls) => {
          cfg(ls, 1)['merge_mode'] = 'sum';
        },
        /layer 1 'bi' \(Bidirectional\): merge_mode "sum" is not supported.*concat/,
      ],
      [
        'merge_mode null',
        (ls) => {
          cfg(ls, 1)['merge_mode'] = null;
        },
        /merge_mode null is not supported/,
      ],
      [
        'use_bias false on a recurrent layer',
        (ls) => {
          cfg(ls, 0)['use_bias'] = false;
        },
        /'enc' \(LSTM\): use_bias false is not supported/,
      ],
      [
        'use_bias false inside Bidirectional',
        (ls) => {
          inner(ls)['use_bias'] = false;
        },
        /'bi' \(Bidirectional\)\.layer \(GRU\): use_bias false/,
      ],
      [
        'an unknown class',
        (ls) => {
          ls[2].class_name = 'Conv2D';
        },
        /layer 2 'out' \(Conv2D\): unknown layer class "Conv2D"/,
      ],
      [
        'recurrent_dropout ≠ 0',
        (ls) => {
          cfg(ls, 0)['recurrent_dropout'] = 0.2;
        },
        /recurrent_dropout 0.2 is not supported/,
      ],
      [
        'recurrent_activation missing',
        (ls) => {
          delete cfg(ls, 0)['recurrent_activation'];
        },
        /'enc' \(LSTM\): recurrent_activation is missing.*hard_sigmoid/,
      ],
      [
        'an activation bptt lacks',
        (ls) => {
          cfg(ls, 2)['activation'] = 'selu';
        },
        /'out' \(Dense\): activation "selu" is not supported/,
      ],
      [
        'hard_sigmoid of a Keras 3 model',
        (ls, top) => {
          top['keras_version'] = '3.4.1';
          cfg(ls, 0)['recurrent_activation'] = 'hard_sigmoid';
        },
        /recurrent_activation hard_sigmoid of a Keras 3 model/,
      ],
      [
        'an unknown config key',
        (ls) => {
          cfg(ls, 0)['mystery'] = 1;
        },
        /'enc' \(LSTM\): unknown config key mystery/,
      ],
      [
        'a regularizer',
        (ls) => {
          cfg(ls, 2)['kernel_regularizer'] = { class_name: 'L2', config: { l2: 0.01 } };
        },
        /'out' \(Dense\): kernel_regularizer .* is not supported/,
      ],
      [
        'trainable false',
        (ls) => {
          cfg(ls, 2)['trainable'] = false;
        },
        /trainable false is not supported/,
      ],
      [
        'stateful inside Bidirectional',
        (ls) => {
          inner(ls)['stateful'] = true;
        },
        /'bi' \(Bidirectional\): bidirectional\(layer\): a stateful layer cannot be wrapped/,
      ],
      [
        'a backward_layer',
        (ls) => {
          cfg(ls, 1)['backward_layer'] = { class_name: 'GRU', config: {} };
        },
        /backward_layer .* is not supported/,
      ],
      [
        'a functional model',
        (_ls, top) => {
          top['class_name'] = 'Functional';
        },
        /only Sequential models are supported, got class_name "Functional"/,
      ],
      [
        'a variable-length input',
        (ls) => {
          cfg(ls, 0)['batch_input_shape'] = [null, null, 3];
        },
        /variable dimension.*options\.inputShape/,
      ],
      [
        'no input shape at all',
        (ls) => {
          delete cfg(ls, 0)['batch_input_shape'];
        },
        /no input shape.*options\.inputShape/,
      ],
      [
        'an InputLayer that is not first',
        (ls) => {
          ls.splice(1, 0, { class_name: 'InputLayer', config: { batch_input_shape: [null, 4, 2] } });
        },
        /an InputLayer must come first/,
      ],
    ];
    for (const [what, f, re] of cases) {
      it(what, () => expect(() => fromTfjs(edit(f))).to.throw(re));
    }

    it('a first Bidirectional whose input shape sits on its inner layer', () => {
      const a = edit((ls) => {
        ls.shift();
        const b = cfg(ls, 0);
        delete b['batch_input_shape'];
        (b['layer'] as L).config['batch_input_shape'] = [null, 4, 2]; // the GRU read the LSTM's 2 units
      });
      const keep = (base.weightSpecs ?? []).slice(3);
      const bytes = weightBytes(base);
      const m = fromTfjs({
        ...a,
        weightSpecs: keep,
        weightData: toArrayBuffer(bytes.subarray(4 * (3 * 8 + 2 * 8 + 8))),
      });
      expect(m.getInputShape()).to.deep.equal([4, 2]);
      expect(m.layers.map((l) => l.name)).to.deep.equal(['bi', 'out']);
    });

    it('TimeDistributed around anything but Dense, and a Dropout noise_shape', () => {
      const td = {
        class_name: 'TimeDistributed',
        config: { name: 'td', layer: { class_name: 'LSTM', config: { units: 2 } } },
      };
      expect(() =>
        fromTfjs(
          edit((ls) => {
            ls.splice(2, 1, td as L);
          }),
        ),
      ).to.throw(/'td' \(TimeDistributed\): layer must be a Dense/);
      const dr = { class_name: 'Dropout', config: { name: 'dr', rate: 0.1, noise_shape: [null, 1, 4] } };
      expect(() =>
        fromTfjs(
          edit((ls) => {
            ls.splice(2, 0, dr as L);
          }),
        ),
      ).to.throw(/'dr' \(Dropout\): noise_shape \[null,1,4\] is not supported/);
    });

    it('a variable-length input loads with options.inputShape, which must agree with the fixed dimensions', () => {
      const a = edit((ls) => {
        cfg(ls, 0)['batch_input_shape'] = [null, null, 3];
      });
      expect(fromTfjs(a, { inputShape: [7, 3] }).getInputShape()).to.deep.equal([7, 3]);
      expect(() => fromTfjs(a, { inputShape: [7, 2] })).to.throw(
        ArgumentError,
        /inputShape\): \[7, 2\] contradicts the model's input shape \[null, 3\]/,
      );
    });

    function withSpecs(f: (specs: tf.io.WeightsManifestEntry[]) => void, data?: Uint8Array): TfjsArtifactsInput {
      const specs = JSON.parse(JSON.stringify(base.weightSpecs)) as tf.io.WeightsManifestEntry[];
      f(specs);
      return {
        modelTopology: base.modelTopology,
        weightSpecs: specs,
        weightData: toArrayBuffer(data ?? weightBytes(base)),
      };
    }

    it('a missing weight, a wrong shape, a weight no layer owns', () => {
      expect(() =>
        fromTfjs(
          withSpecs((s) => {
            s[1].name = 'enc/recurrent';
          }),
        ),
      ).to.throw(
        ArgumentError,
        /layer 'enc' \(LSTM\): missing weight recurrent_kernel \(expected a name like 'enc\/recurrent_kernel'; the layer's weights are 'enc\/kernel', 'enc\/recurrent', 'enc\/bias'\)/,
      );
      expect(() =>
        fromTfjs(
          withSpecs((s) => {
            s[5].name = 'bi/forward_g/kernel';
          }),
        ),
      ).to.throw(
        ArgumentError,
        /layer 'bi' \(Bidirectional\): forward kernel is ambiguous: 'bi\/forward_g\/kernel', 'bi\/forward_g\/kernel'/,
      );
      expect(() =>
        fromTfjs(
          withSpecs((s) => {
            s[0].shape = [4, 6];
          }),
        ),
      ).to.throw(
        ArgumentError,
        /layer 'enc' \(LSTM\): weight 'enc\/kernel' has shape \[4, 6\], the layer's kernel needs \[3, 8\]/,
      );
      const extra = Buffer.concat([weightBytes(base), Buffer.from(Float32Array.of(1).buffer)]);
      expect(() =>
        fromTfjs(
          withSpecs((s) => {
            s.push({ name: 'ghost/kernel', shape: [1], dtype: 'float32' });
          }, extra),
        ),
      ).to.throw(ArgumentError, /weights 'ghost\/kernel' belong to no layer of the model \(layers: enc, bi, out\)/);
    });

    it('truncated or oversized weightData, non-finite values, non-float32 weights', () => {
      const bytes = weightBytes(base);
      expect(() => fromTfjs(withSpecs(() => undefined, bytes.subarray(0, bytes.length - 4)))).to.throw(
        ArgumentError,
        /weightData is truncated: weight 'out\/bias' \(shape \[1\]\) needs bytes \[\d+, \d+\), weightData has \d+/,
      );
      expect(() => fromTfjs(withSpecs(() => undefined, Buffer.concat([bytes, Buffer.alloc(4)])))).to.throw(
        ArgumentError,
        /weightData has \d+ bytes but weightSpecs describe \d+/,
      );
      const nan = Buffer.from(bytes);
      nan.writeFloatLE(NaN, 8);
      expect(() => fromTfjs(withSpecs(() => undefined, nan))).to.throw(
        ArgumentError,
        /weight 'enc\/kernel' has a non-finite value NaN at index 2/,
      );
      expect(() =>
        fromTfjs(
          withSpecs((s) => {
            s[0].dtype = 'int32';
          }),
        ),
      ).to.throw(ArgumentError, /weight 'enc\/kernel' has dtype int32; model weights must be float32/);
    });

    it('a loss bptt does not have', () => {
      const a = { ...edit(() => undefined), trainingConfig: { loss: 'categorical_crossentropy' } };
      expect(() => fromTfjs(a)).to.throw(
        ArgumentError,
        /trainingConfig\.loss: expected 'mse', 'mae' or 'binaryCrossentropy'.*categorical_crossentropy/,
      );
      const ok = {
        ...edit(() => undefined),
        trainingConfig: { loss: { module: 'keras.losses', class_name: 'MeanSquaredError', config: {} } },
      };
      expect(fromTfjs(ok).loss).to.equal('mse');
    });

    it('not artifacts at all', () => {
      expect(() => fromTfjs(null as unknown as TfjsArtifactsInput)).to.throw(ArgumentError, /expected model artifacts/);
      expect(() => fromTfjs({ modelTopology: new ArrayBuffer(4) })).to.throw(ArgumentError, /graph model/);
      expect(() => fromTfjs({ modelTopology: { class_name: 'Sequential', config: {} } })).to.throw(
        ArgumentError,
        /config must be \{ name, layers/,
      );
    });
  });
});
