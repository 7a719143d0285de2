#!/usr/bin/env node
'use strict';
/**
 * `npm test`: runs the suite on every matrix-product path (scripts/mocha-on.js), each even when an earlier one failed,
 * then repeats each failed path's failures (a CI log is read from its tail), prints one line per path and exits non-zero
 * if any failed. (`a && b` would skip the js path whenever the default path fails, hiding whether a failure is
 * path-specific.)
 *
 *   node scripts/test.js [mocha args...]        paths from BPTT_TEST_PATHS (default "auto,js,relaxed"), args to mocha
 *
 * auto: the whole suite on the default path (wasm, simd128 micro-kernel on Node 20); js: the whole suite on the
 * TypeScript kernels; relaxed: the whole suite on the wasm path's relaxed-SIMD FMA micro-kernel (see mocha-on.js), so
 * both micro-kernels and the reference stay green.
 */
const { spawn } = require('child_process');
const path = require('path');

const paths = (process.env.BPTT_TEST_PATHS ?? 'auto,js,relaxed')
  .split(',')
  .map((p) => p.trim())
  .filter((p) => p !== '');
if (paths.length === 0) {
  console.error(
    `test: BPTT_TEST_PATHS names no path (expected a comma-separated list of js, wasm, auto, relaxed), got ${JSON.stringify(process.env.BPTT_TEST_PATHS)}`,
  );
  process.exit(2);
}
const args = process.argv.slice(2);

/** The part of a mocha run's output from its "N failing" line on (the failures, with their stacks), or ''. */
function failuresOf(out) {
  const m = /^ {2}\d+ failing$/m.exec(out);
  return m === null ? '' : out.slice(m.index).trimEnd();
}

/** Runs one path, passing its output through live and keeping it, so the failures can be repeated at the end. */
function runPath(p) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'mocha-on.js'), p, ...args], {
      stdio: ['inherit', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      out += chunk.toString('utf8');
      if (out.length > 1 << 22) out = out.slice(-(1 << 21)); // the failures are at the end: keep the last part
    });
    child.on('close', (code, signal) =>
      resolve({ path: p, status: code === null ? `killed by ${signal}` : code, failures: failuresOf(out) }),
    );
  });
}

(async () => {
  const results = [];
  for (const p of paths) results.push(await runPath(p));
  // A CI log is often read from its tail: repeat each failed path's failures there, below every path's output.
  const MAX_LINES = 80;
  for (const r of results) {
    if (r.status === 0 || r.failures === '') continue;
    const lines = r.failures.split('\n');
    console.log(`\n== failures on the ${r.path} path (repeated from its run above) ==\n`);
    console.log(lines.slice(0, MAX_LINES).join('\n'));
    if (lines.length > MAX_LINES) console.log(`  … ${lines.length - MAX_LINES} more lines in the ${r.path} run above`);
  }
  console.log('\n== npm test: one mocha run per path ==');
  for (const r of results)
    console.log(`  ${r.path.padEnd(7)} ${r.status === 0 ? 'passed' : `FAILED (exit ${r.status})`}`);
  const failed = results.filter((r) => r.status !== 0);
  process.exit(failed.length === 0 ? 0 : 1);
})();
