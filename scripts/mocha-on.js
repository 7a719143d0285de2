#!/usr/bin/env node
'use strict';
/**
 * Runs mocha (with .mocharc.json) on one matrix-product path: `node scripts/mocha-on.js js|wasm|auto [mocha args...]`.
 * `npm test` runs the suite twice, on the default path ('auto': wasm where WebAssembly SIMD is available) and on the
 * TypeScript kernels forced with BPTT_BACKEND=js, so both paths stay green. Works the same on every OS (no shell
 * syntax for the environment variable).
 */
const { spawnSync } = require('child_process');
const path = require('path');

const [backend, ...args] = process.argv.slice(2);
if (!['js', 'wasm', 'auto'].includes(backend)) {
  console.error(`mocha-on: expected 'js', 'wasm' or 'auto' as the first argument, got ${JSON.stringify(backend)}`);
  process.exit(2);
}
const env = { ...process.env, BPTT_BACKEND: backend };
const resolved = spawnSync(
  process.execPath,
  ['-e', "process.stdout.write(require('./dist/lib/backend').getBackend())"],
  { cwd: path.join(__dirname, '..'), env, encoding: 'utf8' },
);
console.log(
  `\n== mocha on the ${backend} path (resolves to ${resolved.stdout || 'unknown: ' + resolved.stderr.trim()}) ==`,
);
const mocha = require.resolve('mocha/bin/mocha.js');
const r = spawnSync(process.execPath, [mocha, ...args], { stdio: 'inherit', env });
process.exit(r.status === null ? 1 : r.status);
