/**
 * The package as a user gets it (issue 14, "Done when"): the repository packed, the tarball installed into a fresh
 * consumer project (spec/package/consumer.ts), then
 *   install   installing runs no build script; the tarball carries both builds, LICENSE, README, CHANGELOG, no spec/bench
 *   browser   esbuild bundles `import { Detector } from 'bptt'` for the browser with no flags or stubs: no Node
 *             built-in, smaller than the whole library, the file-format modules it does not use dropped; the bundle
 *             runs in a context with no Node globals and throws NodeOnlyError for a file path
 *   types     `tsc --strict` compiles a consumer file against the shipped .d.ts with nothing else installed, under
 *             Node's resolution and a bundler's, and refuses what the types say is wrong
 *   node      `require('bptt')` and `import('bptt')` give the same classes; save/load through a file; worker threads
 *
 * Adding a case: write the consumer's file with `c.write(...)` and run it (`runNode`, `tsc`, `bundle` below), one
 * `it` per case, e.g. an `await detector.fitAsync(x, { signal })` while a timer ticks, run under Node with `runNode`.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vm from 'vm';
import * as zlib from 'zlib';
import { type Consumer, consumer, tsc } from './consumer';
import { launchChromium, openPage, requireChromium, serveFiles } from '../helpers/chromium';
import { repoRoot } from '../helpers/repo';

interface Bundle {
  code: string;
  minBytes: number;
  gzipBytes: number;
  /** The files that contributed bytes to the output, relative to the package ('dist/esm/lib/io/json.js'). */
  inputs: Map<string, number>;
}

/** esbuild bundles `entry` (a file of the consumer project) for the browser, minified, with no flags but these. */
function bundle(c: Consumer, entry: string, format: 'esm' | 'iife' = 'esm'): Bundle {
  const esbuild = require('esbuild') as typeof import('esbuild');
  const r = esbuild.buildSync({
    entryPoints: [entry],
    absWorkingDir: c.dir,
    bundle: true,
    platform: 'browser',
    format,
    minify: true,
    write: false,
    metafile: true,
    outfile: 'out.js',
    logLevel: 'silent',
  });
  const out = r.outputFiles[0];
  const inputs = new Map<string, number>();
  for (const meta of Object.values(r.metafile.outputs))
    for (const [file, v] of Object.entries(meta.inputs))
      if (v.bytesInOutput > 0) inputs.set(file.replace(/^node_modules\/bptt\//, ''), v.bytesInOutput);
  return {
    code: out.text,
    minBytes: out.contents.length,
    gzipBytes: zlib.gzipSync(out.contents).length,
    inputs,
  };
}

/** Runs a script of the consumer project with Node; returns stdout (throws with stderr when it fails). */
function runNode(c: Consumer, file: string): string {
  const r = spawnSync(process.execPath, [file], { cwd: c.dir, encoding: 'utf8', timeout: 300000 });
  expect(r.status, `${file}: ${r.stderr}`).to.equal(0);
  return r.stdout;
}

const kb = (n: number): string => `${(n / 1024).toFixed(1)} kB`;

describe('the packed package in a fresh consumer project (npm pack, npm install <tarball>)', function () {
  this.timeout(900000);
  let c: Consumer;

  before(function () {
    this.timeout(900000);
    c = consumer();
  });

  it('installing the tarball runs no build script; it carries both builds, LICENSE, README, CHANGELOG, no spec', () => {
    const installed = JSON.parse(fs.readFileSync(path.join(c.dir, 'node_modules/bptt/package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    const lifecycle = ['preinstall', 'install', 'postinstall', 'prepare'];
    expect(Object.keys(installed.scripts ?? {}).filter((k) => lifecycle.includes(k))).to.deep.equal([]);
    // npm 11 names every package whose install scripts it did not run; bptt must not be one.
    expect(c.installLog).not.to.match(/install-scripts|bptt@[^\s]* \(/);
    expect(c.files).to.include.members([
      'package.json',
      'LICENSE',
      'README.md',
      'CHANGELOG.md',
      'bin/bptt.js',
      'dist/lib/node/index.js',
      'dist/lib/node/index.mjs',
      'dist/lib/node/index.d.ts',
      'dist/lib/node/index.d.mts',
      'dist/lib/cli/main.js',
      'dist/lib/parallel/worker.js',
      'dist/esm/package.json',
      'dist/esm/lib/index.js',
      'dist/esm/lib/index.d.ts',
    ]);
    expect(
      c.files.filter((f) => /^(spec|bench|scripts|docs)\/|tsbuildinfo|^dist\/(spec|bench)\//.test(f)),
    ).to.deep.equal([]);
    // The browser build holds no Node-only module.
    expect(
      c.files.filter((f) => /^dist\/esm\/lib\/(node|cli|watch|fleet)\/|^dist\/esm\/lib\/parallel\/worker/.test(f)),
    ).to.deep.equal([]);
    // Internals marked @internal are stripped from the shipped declarations (stripInternal), in both builds.
    for (const d of ['dist/lib/model/sequential.d.ts', 'dist/esm/lib/model/sequential.d.ts']) {
      const text = fs.readFileSync(path.join(c.dir, 'node_modules/bptt', d), 'utf8');
      expect(text, d).to.match(/\bpredict\(x: TensorLike/);
      expect(text.match(/\b(predictTensor|predictRows|shardStep)\(/g), d).to.equal(null);
    }
    // The CLI runs from the installed package.
    const r = spawnSync(process.execPath, [path.join(c.dir, 'node_modules/bptt/bin/bptt.js'), '--help'], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/bptt/);
  });

  it("esbuild bundles import { Detector } from 'bptt' for the browser: no Node built-in, tree-shaken, runs", () => {
    c.write(
      'browser/detector.js',
      "import { Detector } from 'bptt';\n" +
        'const series = Array.from({ length: 400 }, (_, i) => Math.sin(i / 7) + (i === 300 ? 6 : 0));\n' +
        "const d = new Detector({ model: 'zscore', window: 8, threshold: 'quantile:0.99' }).fit(series.slice(0, 250));\n" +
        'const r = d.detect(series);\n' +
        'let saveError = null;\n' +
        "try { d.save('d.json'); } catch (e) { saveError = { name: e.name, message: e.message }; }\n" +
        'globalThis.result = { flagged: Array.from(r.flags).map((f, i) => (f ? i : -1)).filter((i) => i >= 0), ' +
        'json: JSON.stringify(d.toJSON()).length, saveError };\n',
    );
    c.write('browser/all.js', "import * as bptt from 'bptt';\nglobalThis.bptt = bptt;\n");
    const one = bundle(c, 'browser/detector.js', 'iife');
    const all = bundle(c, 'browser/all.js', 'iife');
    console.log(
      `      Detector-only bundle ${kb(one.minBytes)} min, ${kb(one.gzipBytes)} min+gzip; ` +
        `whole library ${kb(all.minBytes)} min, ${kb(all.gzipBytes)} min+gzip`,
    );
    // Built from the ES module core only, and esbuild resolved no Node built-in (it fails the build on one; the inputs
    // are checked too).
    const files = [...one.inputs.keys()];
    expect(files.filter((f) => f.startsWith('dist/') && !f.startsWith('dist/esm/'))).to.deep.equal([]);
    expect(files.filter((f) => /^(node:)?(fs|path|os|crypto|worker_threads)$/.test(f))).to.deep.equal([]);
    expect(one.code).not.to.match(/require\(["'](node:)?(fs|path|os|crypto|worker_threads)["']\)/);
    // Tree-shaking: the whole library is larger; the formats a Detector does not use (PyTorch, safetensors) are
    // dropped, and what remains of lib/io is what Detector/Sequential's own toJSON and toTfjs methods need.
    expect(one.minBytes).to.be.below(all.minBytes * 0.9);
    expect(files.filter((f) => /lib\/io\/(torch|safetensors)\.js$/.test(f))).to.deep.equal([]);
    expect([...all.inputs.keys()].some((f) => /lib\/io\/torch\.js$/.test(f))).to.equal(true);
    const ioBytes = files.filter((f) => /lib\/io\//.test(f)).reduce((s, f) => s + (one.inputs.get(f) ?? 0), 0);
    expect(ioBytes).to.be.below(one.minBytes * 0.1);
    // The bundle runs where there is no Node: no process, require, Buffer or module in scope; only what a browser has
    // beyond the language (btoa/atob, TextEncoder/TextDecoder).
    const sandbox: {
      result?: { flagged: number[]; json: number; saveError: { name: string; message: string } | null };
      [name: string]: unknown;
    } = { btoa, atob, TextEncoder, TextDecoder };
    vm.runInNewContext(one.code, sandbox, { timeout: 60000 });
    const res = sandbox.result;
    expect(res?.flagged).to.include(300);
    expect(res?.json).to.be.above(100);
    expect(res?.saveError?.name).to.equal('NodeOnlyError');
    expect(res?.saveError?.message).to.match(
      /^Detector\.save\(path\) writes a file and needs Node.*detector\.toJSON\(\)/,
    );
  });

  it('in headless Chromium, the bundle trains a Detector on the wasm path (fit, and fitAsync while a timer ticks); save says NodeOnlyError', async function () {
    if (!requireChromium(this)) return;
    c.write(
      'browser/wasm.js',
      "import { Detector, getBackend } from 'bptt';\n" +
        'globalThis.__result = (async () => {\n' +
        '  const out = { backend: getBackend() };\n' +
        '  try {\n' +
        '    const series = Array.from({ length: 300 }, (_, i) => Math.sin(i / 7));\n' +
        "    const opts = { model: 'lstm-ae', window: 16, epochs: 3, seed: 1, threshold: 'quantile:0.99' };\n" +
        '    const d = new Detector(opts).fit(series);\n' +
        '    out.scores = d.detect(series).scores.length;\n' +
        '    let ticks = 0;\n' +
        '    const timer = setInterval(() => ticks++, 1);\n' +
        '    const controller = new AbortController();\n' +
        "    const a = await new Detector(opts).fitAsync(series, { signal: controller.signal, yieldEvery: 'batch' });\n" +
        '    clearInterval(timer);\n' +
        '    out.ticked = ticks > 0;\n' +
        '    out.sameAsFit = JSON.stringify(a.toJSON()) === JSON.stringify(d.toJSON());\n' +
        "    try { d.save('d.json'); } catch (e) { out.saveError = e.name; }\n" +
        '  } catch (e) { out.error = String((e && e.stack) || e); }\n' +
        '  return out;\n' +
        '})();\n',
    );
    const code = bundle(c, 'browser/wasm.js', 'iife').code;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto('about:blank');
      await page.addScriptTag({ content: code });
      const r = await page.evaluate(() => (globalThis as { __result?: Promise<unknown> }).__result);
      expect(errors).to.deep.equal([]);
      expect(r).to.deep.equal({
        backend: 'wasm',
        scores: 300,
        ticked: true,
        sameAsFit: true,
        saveError: 'NodeOnlyError',
      });
    } finally {
      await browser.close();
    }
  });

  it('examples/browser, bundled as its index.html says (esbuild main.js --bundle --format=esm), finds both anomalies in Chromium', async function () {
    if (!requireChromium(this)) return;
    const dir = path.join(repoRoot(), 'examples', 'browser');
    c.write('examples-browser/main.js', fs.readFileSync(path.join(dir, 'main.js'), 'utf8'));
    const code = bundle(c, 'examples-browser/main.js', 'esm').code;
    const server = await serveFiles({
      '/index.html': { body: fs.readFileSync(path.join(dir, 'index.html'), 'utf8') },
      '/bundle.js': { body: code },
    });
    const browser = await launchChromium();
    try {
      const page = await openPage(browser, server.url('/index.html'));
      await page.page.waitForSelector('body[data-status=done]', { timeout: 120_000 });
      const log = await page.page.$eval('#log', (e) => e.textContent ?? '');
      expect(log).to.match(/^2 event\(s\)$/m);
      expect(log).to.match(/anomaly: points 4\d\d–4\d\d/);
      expect(log).to.match(/anomaly: points 5[2-4]\d–5[2-4]\d/);
      expect(page.problems()).to.deep.equal([]);
      expect(server.missing).to.deep.equal([]);
    } finally {
      await browser.close();
      await server.close();
    }
  });

  it('Node: await detector.fitAsync(x, { signal }) while a timer keeps ticking; aborting keeps the detector as it was', () => {
    c.write(
      'node/async.mjs',
      `import { Detector } from 'bptt';
const series = Array.from({ length: 1200 }, (_, i) => Math.sin(i / 9) + 0.1 * Math.sin(i / 2.3));
const opts = { model: 'lstm-ae', window: 32, epochs: 4, seed: 7, threshold: 'quantile:0.99' };
let ticks = 0;
const timer = setInterval(() => ticks++, 1);
const controller = new AbortController();
const d = await new Detector(opts).fitAsync(series, { signal: controller.signal, yieldEvery: 'batch' });
clearInterval(timer);
const sync = new Detector(opts).fit(series);
const before = JSON.stringify(d.toJSON());
const stop = new AbortController();
let aborted = null;
try {
  await d.fitAsync(series.map((v) => v * 2), {
    signal: stop.signal,
    onEpochEnd: () => stop.abort(),
  });
} catch (e) {
  aborted = e.name;
}
console.log(JSON.stringify({
  ticked: ticks > 0,
  sameAsFit: before === JSON.stringify(sync.toJSON()),
  aborted,
  unchanged: JSON.stringify(d.toJSON()) === before,
}));
`,
    );
    expect(JSON.parse(runNode(c, 'node/async.mjs'))).to.deep.equal({
      ticked: true,
      sameAsFit: true,
      aborted: 'AbortError',
      unchanged: true,
    });
  });

  it('tsc --strict compiles a consumer file against the shipped types, with nothing else installed', () => {
    c.write(
      'types/use.ts',
      `import { Detector, Sequential, lstm, dense, type DetectResult, type NdArray, type ThresholdSpec } from 'bptt';

const series: number[] = Array.from({ length: 300 }, (_, i) => Math.sin(i / 5));
const threshold: ThresholdSpec = 'quantile:0.99';
const d = new Detector({ model: 'lstm-ae', window: 16, threshold, epochs: 1, seed: 1 });
d.fit(series);
const later: Promise<Detector> = new Detector({ model: 'zscore' }).fitAsync(series, { yieldEvery: 'batch' });
const signal: { readonly aborted: boolean } = { aborted: false };
const h: Promise<unknown> = new Sequential([dense({ units: 1, inputShape: [1] })]).fitAsync([[1]], [[2]], { signal });
const r: DetectResult = d.detect(new Float64Array(series));
const flags: Uint8Array = r.flags;
new Detector({ threshold: 'spot:1e-3' }).fit({ data: new Float32Array(200), shape: [100, 2] });
new Detector({ threshold: 'ucl:0.999:1.3333', model: 'zscore' }).fit([[1, 2], [3, null], [5, 6]]);
new Detector({ threshold: { kind: 'sigma', value: 3 } });

const m = new Sequential([lstm({ units: 4, inputShape: [8, 1] }), dense({ units: 1 })]);
m.compile({ optimizer: 'adam', loss: 'mse' });
const x = [[[1], [2], [3], [4], [5], [6], [7], [8]]];
m.fit(x, [[1]], { epochs: 1 });
const y: NdArray = m.predict(x);
const first: number = y.get(0, 0);
const data: Float32Array | Float64Array = y.data;
export const out = [flags.length, first, data.length, y.shape, later, h];
`,
    );
    const strict = {
      strict: true,
      noEmit: true,
      target: 'ES2022',
      types: [],
      lib: ['ES2022'],
      exactOptionalPropertyTypes: true,
    };
    for (const [name, options] of [
      ['node', { ...strict, module: 'nodenext', moduleResolution: 'nodenext' }],
      ['bundler', { ...strict, module: 'preserve', moduleResolution: 'bundler' }],
    ] as const) {
      c.write(`types/tsconfig.${name}.json`, JSON.stringify({ compilerOptions: options, files: ['use.ts'] }));
      const r = tsc(['-p', `types/tsconfig.${name}.json`], c.dir);
      expect(r.output, `tsc (${name} resolution)`).to.equal('');
      expect(r.code).to.equal(0);
    }
  });

  it('the shipped types refuse what bptt refuses: a threshold outside the grammar, a string as a series', () => {
    c.write(
      'types/wrong.ts',
      `import { Detector, Sequential } from 'bptt';
new Detector({ threshold: 'quantile:high' });
new Detector({ threshold: 'fixed' });
new Detector().fit('1,2,3');
new Sequential().predict({ rows: 3 });
`,
    );
    c.write(
      'types/tsconfig.wrong.json',
      JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, types: [], module: 'nodenext', moduleResolution: 'nodenext' },
        files: ['wrong.ts'],
      }),
    );
    const r = tsc(['-p', 'types/tsconfig.wrong.json'], c.dir);
    const lines = r.output.split('\n').filter((l) => /^types\/wrong\.ts\(\d+,\d+\): error TS\d+/.test(l));
    expect(lines.map((l) => Number(/\((\d+),/.exec(l)?.[1]))).to.deep.equal([2, 3, 4, 5]);
  });

  it("Node: require('bptt') and import('bptt') give the same classes; save/load a file; worker threads start", () => {
    c.write(
      'node/check.mjs',
      `import { createRequire } from 'module';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Detector, Sequential, NodeOnlyError, lstm, dense } from 'bptt';
import * as viaNode from 'bptt/node';
const cjs = createRequire(import.meta.url)('bptt');
const same = cjs.Detector === Detector && cjs.Sequential === Sequential && viaNode.Detector === Detector;
const series = Array.from({ length: 300 }, (_, i) => Math.sin(i / 6));
const d = new Detector({ model: 'zscore', window: 8 }).fit(series);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-consumer-'));
const file = path.join(dir, 'd.json');
d.save(file);
const back = Detector.load(file);
const equal = back.detect(series).scores.every((v, i) => Object.is(v, d.detect(series).scores[i]));
const m = new Sequential([lstm({ units: 8, inputShape: [16, 1] }), dense({ units: 1 })], { seed: 1 });
m.compile({ optimizer: 'adam', loss: 'mse' });
const x = Array.from({ length: 256 }, (_, i) => Array.from({ length: 16 }, (_, t) => [Math.sin((i + t) / 5)]));
const y = x.map((s) => [s[15][0]]);
const h = m.fit(x, y, { epochs: 1, batchSize: 64, workers: 2 });
m.dispose();
fs.rmSync(dir, { recursive: true });
console.log(JSON.stringify({ same, equal, trained: h.loss.length, nodeOnly: typeof NodeOnlyError }));
`,
    );
    c.write(
      'node/check.cjs',
      `const { Detector } = require('bptt');
const series = Array.from({ length: 200 }, (_, i) => Math.cos(i / 3));
const d = new Detector({ model: 'zscore', window: 4, threshold: 'quantile:0.99' }).fit(series);
const file = require('path').join(require('os').tmpdir(), 'bptt-consumer-' + process.pid + '.json');
d.save(file);
console.log(JSON.stringify({ loaded: Detector.load(file).fitted }));
require('fs').unlinkSync(file);
`,
    );
    expect(JSON.parse(runNode(c, 'node/check.mjs'))).to.deep.equal({
      same: true,
      equal: true,
      trained: 1,
      nodeOnly: 'function',
    });
    expect(JSON.parse(runNode(c, 'node/check.cjs'))).to.deep.equal({ loaded: true });
  });
});
