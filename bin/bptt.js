#!/usr/bin/env node
'use strict';
// The `bptt` command: runs the compiled command line (npm run build writes dist/). Exit codes: 0 ok, 1 bad input or
// usage, 2 internal error.
let cli;
try {
  cli = require('../dist/lib/cli/main.js');
} catch (e) {
  process.stderr.write(`bptt: cannot load dist/lib/cli/main.js (${e.message}); build it first with npm run build\n`);
  process.exit(2);
}
process.exitCode = cli.main(process.argv.slice(2));
