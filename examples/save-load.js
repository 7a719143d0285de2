// Train a detector once, save it to a file, and load it in another process (or later) to score new data: the loaded
// detector gives the same scores, bit for bit. toJSON/fromJSON do the same through a string (a database, a browser).
// Run: node save-load.js
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Detector } = require('bptt');

// Two related metrics (cpu, memory) per step; the new data has a stretch where memory stops following cpu.
const point = (i, broken) => {
  const cpu = 50 + 20 * Math.sin(i / 12) + 2 * Math.sin(i * 1.7);
  return [cpu, broken ? 5 : 0.5 * cpu + 10 + Math.cos(i * 2.3)];
};
const train = Array.from({ length: 600 }, (_, i) => point(i, false));
const next = Array.from({ length: 300 }, (_, i) => point(600 + i, i >= 200 && i < 215));

const detector = new Detector({ model: 'lstm-ae', window: 16, hidden: 8, epochs: 8, seed: 1 }).fit(train);
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-')), 'detector.json');
detector.save(file); // model, normaliser and threshold calibration in one file, written atomically
console.log(`saved ${path.basename(file)} (${(fs.statSync(file).size / 1024).toFixed(1)} kB)`);

const loaded = Detector.load(file);
const a = detector.detect(next),
  b = loaded.detect(next);
const same = a.scores.every((s, i) => Object.is(s, b.scores[i]));
console.log(`loaded ${loaded.options.model}: ${b.events.length} event(s), scores identical to the original: ${same}`);
for (const e of b.events) console.log(`  points ${e.start}–${e.end}, peak score ${e.peakScore.toFixed(2)}`);

const viaString = Detector.fromJSON(JSON.parse(JSON.stringify(detector.toJSON())));
const sameAgain = viaString.detect(next).scores.every((s, i) => Object.is(s, a.scores[i]));
console.log(`toJSON → fromJSON: identical scores: ${sameAgain}`);
if (!same || !sameAgain) throw new Error('a saved detector must score exactly as the original');
fs.rmSync(path.dirname(file), { recursive: true, force: true });
for (const d of [detector, loaded, viaString]) d.dispose();
