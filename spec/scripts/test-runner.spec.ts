/** scripts/test.js (`npm test`): every path runs even when an earlier one fails, and the exit code says if any failed. */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import { repoRoot } from '../helpers/repo';
import * as path from 'path';

describe('scripts/test.js (npm test)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-test-runner-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (spec: string, paths: string | undefined): { status: number | null; out: string } => {
    const root = repoRoot();
    const env: NodeJS.ProcessEnv = { ...process.env, BPTT_TEST_PATHS: paths };
    if (paths === undefined) delete env['BPTT_TEST_PATHS'];
    // npm test's own path variables (this spec runs under each path) must not leak into the runner under test.
    for (const v of ['BPTT_BACKEND', 'BPTT_WASM_KERNEL', 'BPTT_EXPECT_WASM_KERNEL']) delete env[v];
    const r = spawnSync(
      process.execPath,
      [
        path.join(root, 'scripts', 'test.js'),
        '--no-config',
        '--require',
        path.join(root, 'dist', 'lib', 'node', 'install.js'), // as .mocharc.json does: the Node entry
        '--reporter',
        'dot',
        spec,
      ],
      { cwd: root, encoding: 'utf8', env },
    );
    return { status: r.status, out: r.stdout + r.stderr };
  };

  it('package.json runs it', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['test']).to.equal('node scripts/test.js');
  });

  it('runs the js path after the default path failed, and exits non-zero', () => {
    const spec = path.join(dir, 'fails-on-auto.spec.js');
    fs.writeFileSync(
      spec,
      `
      const fs = require('fs');
      it('records the path and fails on auto only', () => {
        fs.appendFileSync(${JSON.stringify(path.join(dir, 'ran.txt'))}, process.env.BPTT_BACKEND + '\\n');
        if (process.env.BPTT_BACKEND === 'auto') throw new Error('planted failure on the auto path');
      });`,
    );
    const r = run(spec, 'auto,js');
    expect(fs.readFileSync(path.join(dir, 'ran.txt'), 'utf8').split('\n').filter(Boolean)).to.deep.equal([
      'auto',
      'js',
    ]);
    expect(r.status, r.out).to.equal(1);
    expect(r.out)
      .to.match(/auto\s+FAILED/)
      .and.to.match(/js\s+passed/);
    // The failure is repeated below the last path's output, before the summary (a CI log is read from its tail).
    const tail = r.out.slice(r.out.lastIndexOf('== mocha on the js path'));
    expect(tail, r.out).to.match(/== failures on the auto path[^\n]*==\n[\s\S]*planted failure on the auto path/);
    expect(tail.indexOf('== failures on the auto path')).to.be.below(tail.indexOf('== npm test: one mocha run'));
    expect(tail).to.not.include('== failures on the js path');
  });

  it('exits 0 when every path passes, and 1 when only the last one fails', () => {
    const ok = path.join(dir, 'passes.spec.js');
    fs.writeFileSync(ok, "it('passes', () => {});");
    expect(run(ok, 'auto,js').status).to.equal(0);
    const lastFails = path.join(dir, 'fails-on-js.spec.js');
    fs.writeFileSync(
      lastFails,
      "it('fails on js', () => { if (process.env.BPTT_BACKEND === 'js') throw new Error('planted'); });",
    );
    const r = run(lastFails, 'auto,js');
    expect(r.status, r.out).to.equal(1);
    expect(r.out)
      .to.match(/auto\s+passed/)
      .and.to.match(/js\s+FAILED/);
  });

  it('runs auto, js and relaxed by default; relaxed is the wasm path on the relaxed-fma micro-kernel', () => {
    const spec = path.join(dir, 'records-kernel.spec.js');
    const dist = path.join(repoRoot(), 'dist');
    fs.writeFileSync(
      spec,
      `
      const fs = require('fs');
      const backend = require(${JSON.stringify(path.join(dist, 'lib', 'backend.js'))});
      it('records the path and the micro-kernel', () => {
        const line = [process.env.BPTT_BACKEND, backend.getBackend(), backend.wasmKernel(),
          process.env.BPTT_EXPECT_WASM_KERNEL || '-'].join(' ');
        fs.appendFileSync(${JSON.stringify(path.join(dir, 'kernels.txt'))}, line + '\\n');
      });`,
    );
    const r = run(spec, undefined);
    expect(r.status, r.out).to.equal(0);
    const lines = fs.readFileSync(path.join(dir, 'kernels.txt'), 'utf8').split('\n').filter(Boolean);
    expect(lines, r.out).to.have.length(3);
    expect(lines[0]).to.match(/^auto wasm (simd128|relaxed-fma) -$/);
    expect(lines[1]).to.match(/^js js (simd128|relaxed-fma) -$/);
    expect(lines[2]).to.equal('wasm wasm relaxed-fma relaxed-fma');
    expect(r.out)
      .to.match(/== mocha on the relaxed path \(resolves to wasm, relaxed-fma\) ==/)
      .and.match(/relaxed\s+passed/);
  });

  it('the relaxed path fails when its specs fail, and names itself in the summary', () => {
    const spec = path.join(dir, 'fails-on-relaxed.spec.js');
    fs.writeFileSync(
      spec,
      "it('fails on relaxed', () => { if (process.env.BPTT_EXPECT_WASM_KERNEL) throw new Error('planted relaxed'); });",
    );
    const r = run(spec, 'js,relaxed');
    expect(r.status, r.out).to.equal(1);
    expect(r.out)
      .to.match(/js\s+passed/)
      .and.match(/relaxed\s+FAILED/)
      .and.match(/== failures on the relaxed path[^\n]*==\n[\s\S]*planted relaxed/);
  });
});
