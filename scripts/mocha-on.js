#!/usr/bin/env node
'use strict';
/**
 * Runs mocha (with .mocharc.json) on one matrix-product path: `node scripts/mocha-on.js js|wasm|auto|relaxed [mocha
 * args...]`. `npm test` runs the suite on the default path ('auto': wasm where WebAssembly SIMD is available, with the
 * simd128 micro-kernel on Node 20), on the TypeScript kernels forced with BPTT_BACKEND=js, and on 'relaxed': the wasm
 * path with the relaxed-SIMD FMA micro-kernel ('relaxed-fma'; node gets --experimental-wasm-relaxed-simd where the
 * engine needs it), over the specs whose results depend on the products (RELAXED_SPECS: the kernels, the backend and
 * layer specs, the TensorFlow.js parity), so CI covers both micro-kernels. BPTT_EXPECT_WASM_KERNEL=relaxed-fma makes
 * spec/kernels/wasm-fma.spec.ts fail if the kernel was not chosen. Works the same on every OS (no shell syntax).
 *
 * On 'relaxed' without --no-config among the args, mocha gets the options of .mocharc.json except its `spec` (mocha
 * would add the whole suite to any spec named on the command line) and RELAXED_SPECS; with --no-config the args are
 * passed as they are.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { isNodeFlag } = require('mocha/lib/cli/node-flags');

const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const RELAXED_SPECS = [
  'dist/spec/kernels/**/*.spec.js',
  'dist/spec/lib/backend.spec.js',
  'dist/spec/lib/parity.spec.js',
  'dist/spec/lib/model/layers/*.spec.js',
  'dist/spec/lib/io/tfjs.spec.js',
];
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
const nodeArgs = [];
if (relaxed) {
  // auto picks relaxed-fma under the flag; the expectation makes wasm-fma.spec fail if it did not. (Not
  // BPTT_WASM_KERNEL: child processes that specs spawn without the flag inherit the environment.)
  env.BPTT_EXPECT_WASM_KERNEL = 'relaxed-fma';
  // Node 20 validates relaxed SIMD only under the flag; an engine that has it by default does not need it.
  const probe = spawnSync(
    process.execPath,
    ['-e', "process.stdout.write(String(require('./dist/kernels/wasm/arena').wasmRelaxedSimdAvailable()))"],
    { cwd: root, encoding: 'utf8' },
  );
  if (probe.stdout !== 'true') nodeArgs.push(RELAXED_FLAG);
}
const resolved = spawnSync(
  process.execPath,
  [
    ...nodeArgs,
    '-e',
    "const b = require('./dist/lib/backend'); process.stdout.write(b.getBackend() + (b.getBackend() === 'wasm' ? ', ' + b.wasmKernel() : ''))",
  ],
  { cwd: root, env, encoding: 'utf8' },
);
console.log(
  `\n== mocha on the ${pathName} path (resolves to ${resolved.stdout || 'unknown: ' + resolved.stderr.trim()}) ==`,
);
let mochaArgs = args;
if (relaxed && !args.includes('--no-config')) {
  const rc = JSON.parse(fs.readFileSync(path.join(root, '.mocharc.json'), 'utf8'));
  const fromRc = ['--no-config'];
  for (const [key, value] of Object.entries(rc)) {
    if (key === 'spec') continue;
    // A node flag (enable-source-maps) goes to the node that runs mocha: among mocha's args it would make mocha
    // re-spawn node with its own flags only, dropping the relaxed-SIMD one.
    const to = isNodeFlag(key) ? nodeArgs : fromRc;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v === true) to.push(`--${key}`);
      else if (v !== false) to.push(`--${key}`, String(v));
    }
  }
  mochaArgs = [...fromRc, ...args, ...RELAXED_SPECS];
}
const mocha = require.resolve('mocha/bin/mocha.js');
const r = spawnSync(process.execPath, [...nodeArgs, mocha, ...mochaArgs], { stdio: 'inherit', env, cwd: root });
process.exit(r.status === null ? 1 : r.status);
