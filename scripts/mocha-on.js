#!/usr/bin/env node
'use strict';
/**
 * Runs mocha (with .mocharc.json) on one matrix-product path: `node scripts/mocha-on.js js|wasm|auto|relaxed [mocha
 * args...]`. `npm test` runs the whole suite on each of three paths: the default ('auto': wasm where WebAssembly SIMD
 * is available, with the simd128 micro-kernel on Node 20), the TypeScript kernels (BPTT_BACKEND=js), and 'relaxed':
 * the wasm path on the relaxed-SIMD FMA micro-kernel (BPTT_WASM_KERNEL=relaxed-fma, which the Node entry honours on
 * Node 20 by turning on V8's --experimental-wasm-relaxed-simd itself). Specs that only make sense once (the fleet's and
 * `bptt watch`'s end-to-end suites) skip themselves off the default path. BPTT_EXPECT_WASM_KERNEL=relaxed-fma makes
 * spec/kernels/wasm-fma.spec.ts fail if the kernel was not chosen. Works the same on every OS (no shell syntax).
 */
const { spawnSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');

const [pathName, ...args] = process.argv.slice(2);
if (!['js', 'wasm', 'auto', 'relaxed'].includes(pathName)) {
  console.error(
    `mocha-on: expected 'js', 'wasm', 'auto' or 'relaxed' as the first argument, got ${JSON.stringify(pathName)}`,
  );
  process.exit(2);
}
const relaxed = pathName === 'relaxed';
const backend = relaxed ? 'wasm' : pathName;
const env = { ...process.env, BPTT_BACKEND: backend };
if (relaxed) {
  // The variable, not node's flag: the processes and worker threads that specs start inherit the environment, and
  // the Node entry turns on relaxed SIMD for it where the engine keeps it behind a flag (lib/node/relaxed-simd.ts),
  // so a spawned `bptt` runs the same micro-kernel as the spec comparing with it. The expectation makes
  // wasm-fma.spec fail if the kernel was not chosen.
  env.BPTT_WASM_KERNEL = 'relaxed-fma';
  env.BPTT_EXPECT_WASM_KERNEL = 'relaxed-fma';
}
const resolved = spawnSync(
  process.execPath,
  [
    '-e',
    "require('./dist/lib/node/install'); const b = require('./dist/lib/backend'); process.stdout.write(b.getBackend() + (b.getBackend() === 'wasm' ? ', ' + b.wasmKernel() : ''))",
  ],
  { cwd: root, env, encoding: 'utf8' },
);
console.log(
  `\n== mocha on the ${pathName} path (resolves to ${resolved.stdout || 'unknown: ' + resolved.stderr.trim()}) ==`,
);
const mocha = require.resolve('mocha/bin/mocha.js');
const r = spawnSync(process.execPath, [mocha, ...args], { stdio: 'inherit', env, cwd: root });
process.exit(r.status === null ? 1 : r.status);
