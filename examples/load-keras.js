// Load a Keras model converted for TensorFlow.js (model.json + weight shards), predict with it, fine-tune it, and
// write it back in the same format, which tf.loadLayersModel() reads.
// The model in keras-model/ is what `tensorflowjs_converter --input_format keras model.h5 keras-model` writes for
//   Input [5, 2] → LSTM(3, return_sequences) → Bidirectional(GRU(2, return_sequences)) → TimeDistributed(Dense(1)).
// Run: node load-keras.js
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { loadTfjsModel, saveTfjsModel, fromTfjs } = require('bptt');

async function main() {
  const model = await loadTfjsModel(path.join(__dirname, 'keras-model', 'model.json'));
  console.log(model.summary());
  console.log(`input shape [${model.getInputShape()}], output shape [${model.getOutputShape()}]`);

  // One sequence of 5 steps × 2 features; the output is one value per step.
  const x = [Array.from({ length: 5 }, (_, t) => [Math.sin(t), Math.cos(t)])];
  const y = model.predict(x); // ndarray [1, 5, 1]
  console.log(`prediction: ${Array.from(y.data, (v) => v.toFixed(4)).join(' ')}`);

  // In-memory TensorFlow.js artifacts (tf.loadLayersModel(tf.io.fromMemory(artifacts)) takes them) and back.
  const artifacts = model.toTfjs();
  const again = fromTfjs(artifacts);
  const same = again.predict(x).data.every((v, i) => v === y.data[i]);
  console.log(`toTfjs → fromTfjs: ${artifacts.weightData.byteLength} bytes of weights, same prediction: ${same}`);
  if (!same) throw new Error('the round trip changed the model');

  // The converted model kept its Keras training config (loss mse): fine-tune it on a target.
  const target = [Array.from({ length: 5 }, (_, t) => [0.1 * t])];
  const before = model.evaluate(x, target);
  model.fit(x, target, { epochs: 50, optimizer: { name: 'adam', learningRate: 0.05 } });
  console.log(`fine-tuned: loss ${before.toFixed(4)} → ${model.evaluate(x, target).toFixed(4)}`);

  // Saved as a TensorFlow.js model directory (model.json + weights.bin), and read back.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-keras-'));
  try {
    await saveTfjsModel(model, dir);
    const loaded = await loadTfjsModel(path.join(dir, 'model.json'));
    console.log(
      `saved ${fs.readdirSync(dir).sort().join(' + ')}; reloaded loss ${loaded.evaluate(x, target).toFixed(4)}`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
