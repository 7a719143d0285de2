#!/usr/bin/env node
'use strict';
/**
 * Builds spec/fixtures/nab/nab-scorer.json, the small copy of NAB's published detector outputs that the NAB scorer test
 * (spec/lib/detect/nab.spec.ts) runs on when ../shared/data/nab is not beside the repository (a fresh clone, CI).
 *
 *   node scripts/make-nab-fixture.js [NAB_DIR] [OUT]      (defaults: ../shared/data/nab, spec/fixtures/nab/nab-scorer.json)
 *
 * What it keeps of each result file results/<detector>/<category>/<detector>_<file>.csv, per data file:
 *   rows        the row count
 *   start       the first timestamp, and `steps`: the seconds from each row to the next, run-length coded
 *               [[seconds, count], ...] (repeated timestamps are steps of 0), so every timestamp is rebuilt exactly
 *   detections  per detector, [row, anomaly_score] for every row whose anomaly_score is at or above the lowest threshold
 *               that detector has in expected_scores.json (over its profiles and per-file rows). The other rows are
 *               below every threshold: a non-detection under every profile, whatever their score. That is what makes
 *               the fixture 31 kB instead of 8 MB; the per-file scores NAB published are reproduced from it unchanged.
 *   labels      the file's windows, verbatim from labels.json
 * and, from results/expected_scores.json, each detector's and profile's threshold, total_raw, normalised, and per file
 * Threshold, Score, TP, TN, FP, FN.
 *
 * Rerun it only if the NAB subset changes; the spec checks the fixture against ../shared/data/nab whenever that exists.
 */
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const nabDir = path.resolve(process.argv[2] ?? path.join(root, '..', 'shared', 'data', 'nab'));
const out = path.resolve(process.argv[3] ?? path.join(root, 'spec', 'fixtures', 'nab', 'nab-scorer.json'));

const expected = JSON.parse(fs.readFileSync(path.join(nabDir, 'results', 'expected_scores.json'), 'utf8'));
const labels = JSON.parse(fs.readFileSync(path.join(nabDir, 'labels.json'), 'utf8'));
const DETECTORS = Object.keys(expected.detectors).sort();

/** 'YYYY-MM-DD HH:MM:SS' as seconds since 1970, UTC (NAB timestamps carry no zone). */
function seconds(ts) {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(ts);
  if (!m) throw new Error(`unexpected timestamp ${JSON.stringify(ts)}`);
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
}

function readResult(det, file) {
  const [category, name] = file.split('/');
  const p = path.join(nabDir, 'results', det, category, `${det}_${name}`);
  const lines = fs
    .readFileSync(p, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.length > 0);
  const header = lines[0].split(',');
  const ti = header.indexOf('timestamp');
  const si = header.indexOf('anomaly_score');
  if (ti < 0 || si < 0) throw new Error(`${p}: no timestamp or anomaly_score column`);
  const rows = lines.slice(1).map((l) => l.split(','));
  return { timestamps: rows.map((c) => c[ti]), scores: rows.map((c) => Number(c[si])) };
}

const lowest = {};
for (const det of DETECTORS) {
  let lo = Infinity;
  for (const prof of Object.values(expected.detectors[det])) {
    lo = Math.min(lo, prof.threshold);
    for (const row of Object.values(prof.files)) lo = Math.min(lo, row.Threshold);
  }
  lowest[det] = lo;
}

const files = {};
for (const file of Object.keys(labels)) {
  const results = DETECTORS.map((det) => readResult(det, file));
  const ts = results[0].timestamps;
  results.forEach((r, i) => {
    if (r.timestamps.join('\n') !== ts.join('\n'))
      throw new Error(`${file}: ${DETECTORS[i]} has other timestamps than ${DETECTORS[0]}`);
  });
  const steps = [];
  for (let i = 1; i < ts.length; i++) {
    const d = seconds(ts[i]) - seconds(ts[i - 1]);
    const last = steps[steps.length - 1];
    if (last && last[0] === d) last[1]++;
    else steps.push([d, 1]);
  }
  const detections = {};
  DETECTORS.forEach((det, k) => {
    detections[det] = [];
    results[k].scores.forEach((s, i) => {
      if (s >= lowest[det]) detections[det].push([i, s]);
    });
  });
  files[file] = { rows: ts.length, start: ts[0], steps, labels: labels[file], detections };
}

const detectors = {};
for (const det of DETECTORS) {
  detectors[det] = {};
  for (const [prof, e] of Object.entries(expected.detectors[det])) {
    const per = {};
    for (const [file, r] of Object.entries(e.files)) {
      per[file] = { Threshold: r.Threshold, Score: r.Score, TP: r.TP, TN: r.TN, FP: r.FP, FN: r.FN };
    }
    detectors[det][prof] = { threshold: e.threshold, total_raw: e.total_raw, normalised: e.normalised, files: per };
  }
}

const fixture = {
  about:
    'NAB (numenta/NAB commit ea702d75cc2258d9d7dd35ca8e5e2539d71f3140, MIT licence: see LICENSE beside this file): ' +
    'the published outputs of two detectors on 13 NAB files, reduced by scripts/make-nab-fixture.js to what a NAB scorer ' +
    'needs (README.md beside this file).',
  lowestThreshold: lowest,
  windows: expected.windows,
  files,
  detectors,
};
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, `${JSON.stringify(fixture)}\n`);
console.log(`wrote ${out}: ${Object.keys(files).length} files, ${fs.statSync(out).size} bytes`);
