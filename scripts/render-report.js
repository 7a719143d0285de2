#!/usr/bin/env node
'use strict';
/**
 * Renders a bptt HTML report to a PNG in headless Chromium (Debian: apt-get install chromium), to check how it looks
 * and to make the README screenshot. Not part of npm test (CI has no browser).
 *
 *   node scripts/render-report.js report.html out.png [--width 1200] [--height 900]
 *
 * The page is loaded from a file:// URL with networking features off; the report needs no network, so a blank area in
 * the PNG means the report broke, not the connection. Set CHROMIUM to use another browser binary.
 *
 * The README screenshot (docs/report.png, a real NAB series with its labelled windows) is made from the repo root by:
 *   npm run build
 *   node bin/bptt.js detect ../shared/data/nab/realKnownCause/ec2_request_latency_system_failure.csv --quiet \
 *     --labels ../shared/data/nab/labels.json --threshold sigma:12 --min-gap 12 --seed 1 \
 *     --report /tmp/nab-report.html --out /tmp/nab-flags.csv
 *   node scripts/render-report.js /tmp/nab-report.html docs/report.png --width 1200 --height 1220
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');

function usage(msg) {
  if (msg) process.stderr.write(`render-report: ${msg}\n`);
  process.stderr.write('usage: node scripts/render-report.js <report.html> <out.png> [--width W] [--height H]\n');
  process.exit(1);
}

const args = process.argv.slice(2);
const pos = [];
const opts = { width: 1200, height: 900 };
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--width' || a === '--height') {
    const v = Number(args[++i]);
    if (!Number.isInteger(v) || v < 100) usage(`${a} needs an integer ≥ 100`);
    opts[a.slice(2)] = v;
  } else if (a === '-h' || a === '--help') usage();
  else pos.push(a);
}
if (pos.length !== 2) usage('expected an input HTML file and an output PNG');
const [input, output] = pos.map((p) => path.resolve(p));
if (!fs.existsSync(input)) usage(`no such file: ${input}`);

const browser = process.env.CHROMIUM || 'chromium';
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-chromium-'));
const tmpPng = path.join(profile, 'shot.png');
try {
  const r = spawnSync(
    browser,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      `--screenshot=${tmpPng}`,
      `--window-size=${opts.width},${opts.height}`,
      pathToFileURL(input).href,
    ],
    { encoding: 'utf8', timeout: 120000 },
  );
  if (r.error) usage(`cannot run ${browser}: ${r.error.message} (install it: apt-get install chromium)`);
  if (!fs.existsSync(tmpPng)) {
    process.stderr.write(r.stderr || '');
    usage(`${browser} exited with ${r.status} and wrote no screenshot`);
  }
  fs.mkdirSync(path.dirname(output), { recursive: true });
  fs.copyFileSync(tmpPng, output);
  process.stdout.write(`wrote ${output} (${fs.statSync(output).size} bytes)\n`);
} finally {
  fs.rmSync(profile, { recursive: true, force: true });
}
