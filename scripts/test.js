#!/usr/bin/env node
'use strict';
/**
 * `npm test`: runs the suite on every matrix-product path (scripts/mocha-on.js), each even when an earlier one failed,
 * then prints one line per path and exits non-zero if any failed. (`a && b` would skip the js path whenever the default
 * path fails, hiding whether a failure is path-specific.)
 *
 *   node scripts/test.js [mocha args...]        paths from BPTT_TEST_PATHS (default "auto,js"), args passed to mocha
 */
const { spawnSync } = require('child_process');
const path = require('path');

const paths = (process.env.BPTT_TEST_PATHS ?? 'auto,js')
  .split(',')
  .map((p) => p.trim())
  .filter((p) => p !== '');
if (paths.length === 0) {
  console.error(
    `test: BPTT_TEST_PATHS names no path (expected a comma-separated list of js, wasm, auto), got ${JSON.stringify(process.env.BPTT_TEST_PATHS)}`,
  );
  process.exit(2);
}
const args = process.argv.slice(2);
const results = paths.map((p) => {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'mocha-on.js'), p, ...args], { stdio: 'inherit' });
  return { path: p, status: r.status === null ? `killed by ${r.signal}` : r.status };
});
console.log('\n== npm test: one mocha run per path ==');
for (const r of results)
  console.log(`  ${r.path.padEnd(5)} ${r.status === 0 ? 'passed' : `FAILED (exit ${r.status})`}`);
const failed = results.filter((r) => r.status !== 0);
process.exit(failed.length === 0 ? 0 : 1);
