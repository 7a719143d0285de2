#!/usr/bin/env node
'use strict';
/**
 * A/B speed of two builds of bptt on this machine, interleaved so that machine noise falls on both alike: the question
 * "did this change make bptt slower?". Each round runs one fresh process per (build, shape, path, task) in turn, A then
 * B; each process warms up, then times batches of calls and prints the median per call. The table gives the median
 * over rounds and the ratio B/A (1.00 = the same; the spread of A against itself is the noise floor).
 *
 *   node bench/ab-builds.js <repoA> <repoB> [--rounds=3] [--out=bench/results/ab.md]
 *   (both repos built: `npx tsc -p tsconfig.json` in each; e.g. A = a `git worktree` of the commit before the change)
 *
 * Shapes are bench/speed-common.ts's (S, M, L, STREAM: batch, window, features, hidden); the model is the LSTM
 * sequence autoencoder, float32, one thread; tasks: a training step (fit, one batch) and a batch inference (predict).
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const SHAPES = {
  S: { batch: 32, window: 32, features: 1, hidden: 32 },
  M: { batch: 64, window: 64, features: 8, hidden: 64 },
  L: { batch: 64, window: 128, features: 16, hidden: 128 },
  STREAM: { batch: 1, window: 64, features: 1, hidden: 64 },
};

const CHILD = `
const [root, backend, task, shapeJson] = process.argv.slice(1);
const s = JSON.parse(shapeJson);
const lib = require(root + '/dist/lib/index.js');
lib.setBackend(backend);
const m = lib.lstmAutoencoder({ window: s.window, features: s.features, units: [s.hidden], seed: 1, dtype: 'float32' });
const data = new Float32Array(s.batch * s.window * s.features).map((_, i) => Math.sin(i / 7));
const x = { data, shape: [s.batch, s.window, s.features] };
const call = task === 'fit'
  ? () => m.fit(x, x, { epochs: 1, batchSize: s.batch, shuffle: false, workers: 1 })
  : () => m.predict(x, { batchSize: s.batch, workers: 1 });
let t0 = process.hrtime.bigint(), n = 0;
while (n < 3 || Number(process.hrtime.bigint() - t0) < 3e8) { call(); n++; }   // warm-up: at least 0.3 s
const per = Math.max(1, Math.round(n * 0.4 / 0.3 / 3));                       // ~0.13 s per timed batch
const times = [];
for (let r = 0; r < 7; r++) {
  t0 = process.hrtime.bigint();
  for (let i = 0; i < per; i++) call();
  times.push(Number(process.hrtime.bigint() - t0) / 1e6 / per);
}
times.sort((a, b) => a - b);
process.stdout.write(String(times[3]));
`;

function main() {
  const args = process.argv.slice(2);
  const opt = (k, d) => (args.find((a) => a.startsWith(`--${k}=`)) ?? `--${k}=${d}`).split('=')[1];
  const [a, b] = args.filter((x) => !x.startsWith('--')).map((p) => path.resolve(p));
  if (a === undefined || b === undefined) {
    console.error('usage: node bench/ab-builds.js <repoA> <repoB> [--rounds=3] [--out=file.md]');
    process.exit(2);
  }
  for (const r of [a, b]) {
    if (!fs.existsSync(path.join(r, 'dist/lib/index.js'))) {
      console.error(
        `ab-builds: ${r} is not built (expected ${r}/dist/lib/index.js; run npx tsc -p tsconfig.json there)`,
      );
      process.exit(2);
    }
  }
  const rounds = Number(opt('rounds', 3));
  const cases = [];
  for (const shape of Object.keys(SHAPES))
    for (const backend of ['wasm', 'js'])
      for (const task of ['fit', 'predict']) {
        if (backend === 'js' && shape === 'L') continue; // seconds per call on js; L is covered on wasm
        cases.push({ shape, backend, task, A: [], B: [] });
      }
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) {
      for (const [key, root] of [
        ['A', a],
        ['B', b],
      ]) {
        const out = spawnSync(
          process.execPath,
          ['-e', CHILD, root, c.backend, c.task, JSON.stringify(SHAPES[c.shape])],
          { encoding: 'utf8' },
        );
        if (out.status !== 0) throw new Error(`${root} ${c.shape} ${c.backend} ${c.task}: ${out.stderr}`);
        c[key].push(Number(out.stdout));
      }
      process.stderr.write('.');
    }
  }
  const med = (v) => [...v].sort((x, y) => x - y)[v.length >> 1];
  const spread = (v) => (Math.max(...v) / Math.min(...v)).toFixed(2);
  const lines = [
    `# A/B speed: ${path.basename(a)} (A) against ${path.basename(b)} (B)`,
    '',
    `${new Date().toISOString()}, ${rounds} interleaved rounds, load average ${require('os')
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' / ')} at the end. ` +
      'ms per call, median over rounds (each round the median of 7 timed batches in a fresh process); LSTM autoencoder, float32, one thread.',
    '',
    '| shape | path | task | A ms | B ms | B/A | A max/min over rounds | B max/min |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of cases) {
    const ma = med(c.A),
      mb = med(c.B);
    lines.push(
      `| ${c.shape} | ${c.backend} | ${c.task} | ${ma.toPrecision(3)} | ${mb.toPrecision(3)} | ${(mb / ma).toFixed(2)} | ${spread(c.A)} | ${spread(c.B)} |`,
    );
  }
  const text = lines.join('\n') + '\n';
  process.stderr.write('\n');
  process.stdout.write(text);
  const out = opt('out', '');
  if (out !== '') fs.writeFileSync(out, text);
}

main();
