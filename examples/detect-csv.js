// Find anomalies in a CSV file (a timestamp column and a value column) with a Detector.
// Run: node detect-csv.js [file.csv]   (default: data/latency.csv beside this script)
'use strict';
const fs = require('fs');
const path = require('path');
const { Detector } = require('bptt');

const file = process.argv[2] ?? path.join(__dirname, 'data', 'latency.csv');
const [header, ...rows] = fs.readFileSync(file, 'utf8').trim().split('\n');
const times = rows.map((r) => r.split(',')[0]);
const values = rows.map((r) => Number(r.split(',')[1]));
const timestamps = times.map((t) => Date.parse(`${t.replace(' ', 'T')}Z`)); // epoch ms: the time of day is used too
console.log(`${path.basename(file)}: ${values.length} rows of ${header.split(',')[1]}`);

// Train on the first 40 % (assumed normal), then score every row; the detector keeps learning as it goes.
const n = Math.floor(values.length * 0.4);
const detector = new Detector({ seed: 1 }).fit(values.slice(0, n), { timestamps: timestamps.slice(0, n) });
const result = detector.detect(values.slice(n), { timestamps: timestamps.slice(n) });

console.log(`model ${detector.options.model}, ${result.events.length} anomalous event(s):`);
for (const e of result.events) {
  const at = (i) => times[n + i];
  const span = e.end > e.start ? `${at(e.start)} → ${at(e.end)}` : at(e.start);
  console.log(`  ${span}: peak ${values[n + e.peakIndex]} at ${at(e.peakIndex)}`);
}
detector.dispose();
