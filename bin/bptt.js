#!/usr/bin/env node
'use strict';
// The `bptt` command: runs the compiled command line (dist/lib/cli/main.js). Exit codes: 0 ok, 1 bad input or usage,
// 2 internal error. In a git checkout where nothing is built yet (a fresh clone after `npm ci`: the package has no
// `prepare` script, so that installing the published tarball runs no build), it builds dist/ first.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const main = path.join(root, 'dist', 'lib', 'cli', 'main.js');
const build = path.join(root, 'scripts', 'build.js');
if (!fs.existsSync(main) && fs.existsSync(build)) {
  process.stderr.write('bptt: no dist/ yet in this checkout; building it first (node scripts/build.js)\n');
  const r = require('child_process').spawnSync(process.execPath, [build, '--if-stale'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) {
    process.stderr.write(`bptt: the build failed (exit ${r.status}); run npm run build to see why\n`);
    process.exit(2);
  }
}
let cli;
try {
  cli = require(main);
} catch (e) {
  process.stderr.write(`bptt: cannot load dist/lib/cli/main.js (${e.message}); build it first with npm run build\n`);
  process.exit(2);
}
process.exitCode = cli.main(process.argv.slice(2));
