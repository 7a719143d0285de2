#!/usr/bin/env node
'use strict';
/**
 * `npm run fuzz`: a long seeded run of the fuzz suite (spec/fuzz: CSV reader, options parser, model and detector
 * loaders, TensorFlow.js and safetensors readers). `npm test` runs a short fixed-seed slice of the same cases.
 *
 *   npm run fuzz -- [--cases N] [--seed S] [--targets csv,tfjs,...] [--from I] [--timeout MS] [--examples K] [--json FILE]
 *   npm run fuzz -- --seed S --targets tfjs --from 1234 --cases 1 --verbose      reproduce one case
 *
 * --cases N     cases per target (default 2000)          --seed S      default: a new one, printed
 * --from I      first case index (default 0)             --timeout MS  bound on one case (default 30000)
 * --examples K  findings shown per target and verdict (default 5)
 * --json FILE   also write every finding as JSON        --verbose     print every case as it ends
 * Exit code: 0 when no case failed (see spec/fuzz/runner.ts for the verdicts), 1 otherwise. Needs the compiled specs
 * (the npm script runs tsc first).
 */
const fs = require('fs');
const path = require('path');

function usage(msg) {
  console.error(
    `fuzz: ${msg}\nusage: npm run fuzz -- [--cases N] [--seed S] [--targets a,b] [--from I] [--timeout MS] [--examples K] [--json FILE] [--verbose]`,
  );
  process.exit(2);
}

const args = process.argv.slice(2);
const o = { cases: 2000, seed: null, targets: null, from: 0, timeout: 30000, examples: 5, json: null, verbose: false };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const val = () => {
    if (i + 1 >= args.length) usage(`${a} needs a value`);
    return args[++i];
  };
  const num = (name, min) => {
    const s = val();
    const n = Number(s);
    if (s.trim() === '' || !Number.isInteger(n) || n < min)
      usage(`${name}: expected an integer ≥ ${min}, got ${JSON.stringify(s)}`);
    return n;
  };
  if (a === '--cases') o.cases = num('--cases', 1);
  else if (a === '--seed') o.seed = val();
  else if (a === '--targets')
    o.targets = val()
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  else if (a === '--from') o.from = num('--from', 0);
  else if (a === '--timeout') o.timeout = num('--timeout', 1);
  else if (a === '--examples') o.examples = num('--examples', 0);
  else if (a === '--json') o.json = val();
  else if (a === '--verbose') o.verbose = true;
  else usage(`unknown argument ${JSON.stringify(a)}`);
}

const dist = path.join(__dirname, '..', 'dist', 'spec', 'fuzz');
if (!fs.existsSync(path.join(dist, 'harness.js')))
  usage(`${dist}/harness.js not found: build first (npx tsc -p tsconfig.json)`);
const { runFuzz } = require(path.join(dist, 'harness.js'));
const { TARGETS } = require(path.join(dist, 'targets.js'));
const { HARD } = require(path.join(dist, 'runner.js'));
const names = TARGETS.map((t) => t.name);
const targets = o.targets ?? names;
for (const t of targets)
  if (!names.includes(t)) usage(`unknown target ${JSON.stringify(t)}; expected ${names.join(', ')}`);
const seed = o.seed ?? String(Date.now() % 1e9);

console.log(
  `fuzz: seed ${seed}, ${o.cases} cases per target from index ${o.from}, targets ${targets.join(', ')}, ` +
    `bound ${o.timeout} ms per case`,
);
const t0 = Date.now();
let n = 0;
runFuzz({
  seed,
  targets,
  cases: o.cases,
  from: o.from,
  caseTimeoutMs: o.timeout,
  onOutcome: (c) => {
    n++;
    if (o.verbose)
      console.log(`  ${c.target} #${c.index} ${c.verdict} (${c.ms.toFixed(1)} ms): ${c.detail}\n      ${c.what}`);
    else if (n % 1000 === 0) process.stderr.write(`  ${n} cases, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  },
}).then(
  (reports) => {
    const secs = (Date.now() - t0) / 1000;
    let failed = 0;
    console.log(`\nfuzz: ${reports.reduce((a, r) => a + r.cases, 0)} cases in ${secs.toFixed(1)} s (seed ${seed})\n`);
    console.log('target          cases      ok  refused  unnamed  hard failures');
    for (const r of reports) {
      const t = TARGETS.find((x) => x.name === r.target);
      const hard =
        HARD.filter((v) => r.counts[v])
          .map((v) => `${v} ${r.counts[v]}`)
          .join(', ') || '-';
      console.log(
        `${r.target.padEnd(14)} ${String(r.cases).padStart(6)} ${String(r.counts.ok ?? 0).padStart(7)} ${String(r.counts.refused ?? 0).padStart(8)} ` +
          `${String(r.counts.unnamed ?? 0).padStart(8)}  ${hard}    [${t.owner}: ${t.files}]`,
      );
      if (r.findings.length > 0) failed++;
    }
    for (const r of reports) {
      const byVerdict = new Map();
      for (const f of r.findings) byVerdict.set(f.verdict, [...(byVerdict.get(f.verdict) ?? []), f]);
      for (const [v, list] of byVerdict) {
        console.log(
          `\n${r.target} / ${v}: ${list.length} case${list.length > 1 ? 's' : ''}` +
            `${list.length > o.examples ? ` (first ${o.examples}; distinct details below)` : ''}`,
        );
        const seen = new Set();
        let shown = 0;
        for (const f of list) {
          const key = f.detail.replace(/\d+/g, '#').slice(0, 120);
          if (seen.has(key) || shown >= o.examples) continue;
          seen.add(key);
          shown++;
          console.log(`  #${f.index}: ${f.detail}\n      made by: ${f.what}`);
        }
        if (seen.size < list.length && shown >= o.examples) console.log(`  … ${list.length - shown} more`);
      }
    }
    if (o.json)
      fs.writeFileSync(o.json, JSON.stringify({ seed, cases: o.cases, from: o.from, seconds: secs, reports }, null, 1));
    console.log(
      failed === 0
        ? '\nfuzz: no failures'
        : `\nfuzz: failures in ${failed} target${failed > 1 ? 's' : ''}; reproduce a case with --seed ${seed} --targets T --from I --cases 1 --verbose`,
    );
    process.exit(failed === 0 ? 0 : 1);
  },
  (e) => {
    console.error(`fuzz: the harness failed: ${e.stack ?? e}`);
    process.exit(2);
  },
);
