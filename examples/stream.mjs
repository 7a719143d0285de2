/* global console */
// Score a live feed point by point with a DetectorStream (an ES module: import works on the CommonJS build too).
// Run: node stream.mjs
import { Detector, DetectorStream } from 'bptt';

// A sensor: a slow cycle with noise; from point 560 to 569 it sticks at a high value.
let seed = 3;
const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
const sensor = (i) => (i >= 560 && i < 570 ? 4 : Math.sin(i / 9) + noise());

const history = Array.from({ length: 400 }, (_, i) => sensor(i));
const detector = new Detector({ seed: 1 }).fit(history); // one series: the continually learning 'gru-online'

const live = detector.stream(); // continues where the training series ended
console.log(`streaming with ${detector.options.model} (${live instanceof DetectorStream ? 'DetectorStream' : '?'})`);
let alarms = 0;
for (let i = 400; i < 700; i++) {
  const r = live.push(sensor(i)); // { index, score, flag, threshold }, or null while warming up
  if (r !== null && r.flag) {
    alarms++;
    console.log(`  alarm at point ${i}: value ${sensor(i).toFixed(2)}, score ${r.score.toFixed(3)} > ${r.threshold}`);
  }
}
console.log(`${alarms} alarm(s) in 300 streamed points`);
if (alarms === 0) throw new Error('the stuck sensor should raise an alarm');
detector.dispose();
