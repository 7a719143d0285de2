// Train an LSTM to forecast the next value of a sine wave from the 24 values before it, then predict.
// Run: node forecast-sine.js   (after npm install bptt)
'use strict';
const { forecaster } = require('bptt');

const window = 24;
const wave = (t) => Math.sin(t / 4) + 0.5 * Math.sin(t / 11);

// Windows x[i] = wave(i … i+23) as [N, window, 1], targets y[i] = wave(i+24) as [N, 1].
function windows(from, count) {
  const x = [],
    y = [];
  for (let i = from; i < from + count; i++) {
    x.push(Array.from({ length: window }, (_, t) => [wave(i + t)]));
    y.push([wave(i + window)]);
  }
  return { x, y };
}

const train = windows(0, 400);
const test = windows(1000, 50); // a stretch of the wave the model has not seen

const model = forecaster({ window, features: 1, units: 16, seed: 1 }); // LSTM(16) → Dense(1), loss mse
const history = model.fit(train.x, train.y, {
  epochs: 30,
  batchSize: 32,
  optimizer: { name: 'adam', learningRate: 0.01 },
});
const losses = history.loss;
console.log(`trained ${losses.length} epochs: loss ${losses[0].toFixed(4)} → ${losses[losses.length - 1].toFixed(5)}`);

const predicted = model.predict(test.x); // an ndarray [50, 1]
let mse = 0,
  naive = 0;
for (let i = 0; i < test.y.length; i++) {
  mse += (predicted.get(i, 0) - test.y[i][0]) ** 2 / test.y.length;
  naive += (test.x[i][window - 1][0] - test.y[i][0]) ** 2 / test.y.length; // "tomorrow = today"
}
for (let i = 0; i < 3; i++) {
  console.log(
    `  t=${1000 + i + window}: predicted ${predicted.get(i, 0).toFixed(3)}, actual ${test.y[i][0].toFixed(3)}`,
  );
}
console.log(`test MSE ${mse.toFixed(5)} (repeating the last value: ${naive.toFixed(5)})`);
if (!(mse < naive)) throw new Error('the forecaster should beat repeating the last value');
console.log('LSTM forecaster: ok');
