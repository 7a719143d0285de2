/* global document */
// The browser example's script: trains a Detector on a generated series in the page and draws the scores and flags.
// `import ... from 'bptt'` is resolved by a bundler; see index.html for the one-line esbuild command.
import { Detector } from 'bptt';

const log = document.getElementById('log');
const say = (s) => {
  log.textContent += `${s}\n`;
};

// A cycle with noise and two anomalies: a spike at 420 and a shifted stretch at 520–539.
let seed = 11;
const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.3;
const wave = (i) => Math.sin(i / 10) + 0.4 * Math.sin(i / 3.3) + noise();
const series = Array.from({ length: 600 }, (_, i) => (i === 420 ? 4 : wave(i) + (i >= 520 && i < 540 ? 2 : 0)));

const t0 = performance.now();
const train = series.slice(0, 300);
const detector = new Detector({ model: 'lstm-ae', window: 24, hidden: 8, epochs: 10, seed: 1 }).fit(train);
const { scores, flags, events } = detector.detect(series);
const ms = Math.round(performance.now() - t0);
say(`trained ${detector.options.model} on ${train.length} points and scored ${series.length} in ${ms} ms`);
for (const e of events) say(`anomaly: points ${e.start}–${e.end}, peak score ${e.peakScore.toFixed(2)}`);
say(`${events.length} event(s)`);

// The series (blue), flagged points (red) and the score (grey, scaled to the lower band).
const canvas = document.getElementById('chart');
const g = canvas.getContext('2d');
const W = canvas.width,
  H = canvas.height;
const lo = Math.min(...series),
  hi = Math.max(...series);
const x = (i) => (i / (series.length - 1)) * W;
const y = (v) => 6 + ((hi - v) / (hi - lo)) * (H * 0.6 - 12); // the upper 60 %
g.fillStyle = '#fde2e1'; // flagged points: a red band behind the series
flags.forEach((f, i) => f && g.fillRect(x(i) - 1.5, 0, 3, H * 0.6));
g.strokeStyle = '#1f6feb';
g.beginPath();
series.forEach((v, i) => (i === 0 ? g.moveTo(x(i), y(v)) : g.lineTo(x(i), y(v))));
g.stroke();
const top = Math.max(...scores);
g.strokeStyle = '#888';
g.beginPath();
Array.from(scores).forEach((s, i) => g.lineTo(x(i), H - (s / top) * H * 0.3));
g.stroke();
g.fillStyle = '#d1242f';
flags.forEach((f, i) => f && g.fillRect(x(i) - 2, y(series[i]) - 2, 4, 4));

document.body.dataset.status = 'done'; // for a headless browser test: wait for this, then read #log
