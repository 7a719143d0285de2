/**
 * examples/: every Node example runs as a user runs it, and says what it should. The examples are copied into a temp
 * project whose node_modules/bptt is a symlink to this repository, so `require('bptt')` and `import ... from 'bptt'`
 * resolve through package.json (main, or the exports map) to the built files exactly as after `npm install bptt`
 * (the build is `npm test`'s pretest). A non-zero exit, or a line missing from the output, fails the example.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot } from '../helpers/repo';

const ROOT = repoRoot();
const EXAMPLES = path.join(ROOT, 'examples');

/** Each Node example and lines its output must contain. */
const RUNS: Record<string, RegExp[]> = {
  'forecast-sine.js': [
    /^trained 30 epochs: loss \d\.\d{4} → \d\.\d{5}$/m,
    /^test MSE \d\.\d{5} \(repeating the last value: \d\.\d{5}\)$/m,
    /^LSTM forecaster: ok$/m,
  ],
  'detect-csv.js': [
    /^latency\.csv: 720 rows of latency_ms$/m,
    /^model gru-online, [1-9]\d* anomalous event\(s\):$/m,
    // the incident injected at rows 610–625 (2024-03-08 05:40 to 08:10) is found
    /^ {2}2024-03-08 0[5-8]:\d0.*: peak \d+(\.\d)? at 2024-03-08 0[5-8]:\d0$/m,
  ],
  'load-keras.js': [
    /^lstm \(LSTM\) +\[N, 5, 3\] +72/m,
    /^input shape \[5,2\], output shape \[5,1\]$/m,
    /^prediction: (-?\d\.\d{4} ){4}-?\d\.\d{4}$/m,
    /^toTfjs → fromTfjs: 596 bytes of weights, same prediction: true$/m,
    /^fine-tuned: loss \d\.\d{4} → \d\.\d{4}$/m,
    /^saved model\.json \+ weights\.bin; reloaded loss \d\.\d{4}$/m,
  ],
  'stream.mjs': [
    /^streaming with gru-online \(DetectorStream\)$/m,
    /^ {2}alarm at point 56\d: value 4\.00, score /m,
    /^[1-9]\d* alarm\(s\) in 300 streamed points$/m,
  ],
  'save-load.js': [
    /^saved detector\.json \(\d+\.\d kB\)$/m,
    /^loaded lstm-ae: [1-9]\d* event\(s\), scores identical to the original: true$/m,
    /^ {2}points 2\d\d–2\d\d, peak score /m,
    /^toJSON → fromJSON: identical scores: true$/m,
  ],
};

/** Copies a folder (files and subfolders). */
function copyDir(from: string, to: string, skip: (name: string) => boolean): void {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    if (skip(e.name)) continue;
    const a = path.join(from, e.name),
      b = path.join(to, e.name);
    if (e.isDirectory()) copyDir(a, b, () => false);
    else fs.copyFileSync(a, b);
  }
}

describe('examples/ (each run with node from a project where bptt is installed)', function () {
  this.timeout(120000);
  let project: string;

  before(() => {
    project = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-examples-'));
    copyDir(EXAMPLES, project, (name) => name === 'browser');
    fs.mkdirSync(path.join(project, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(project, 'node_modules', 'bptt'), 'dir');
    // What require('bptt') opens from the project (package.json's main or exports): built by npm test's pretest.
    let entry: string;
    try {
      entry = require.resolve('bptt', { paths: [project] });
    } catch (e) {
      entry = (e as Error).message;
    }
    expect(fs.existsSync(entry), `require('bptt') from ${project}: ${entry}; build first (npm run build)`).to.equal(
      true,
    );
  });

  after(() => fs.rmSync(project, { recursive: true, force: true }));

  it('every script in examples/ is run here', () => {
    const scripts = fs.readdirSync(EXAMPLES).filter((f) => /\.(c|m)?js$/.test(f));
    expect(scripts.sort()).to.deep.equal(Object.keys(RUNS).sort());
  });

  for (const [script, lines] of Object.entries(RUNS)) {
    it(`node ${script}`, () => {
      const r = spawnSync(process.execPath, [script], { cwd: project, encoding: 'utf8', timeout: 60000 });
      if (r.error) throw r.error;
      expect(r.status, `exit code of ${script}; stderr:\n${r.stderr}`).to.equal(0);
      for (const re of lines) expect(r.stdout, `output of ${script}`).to.match(re);
    });
  }

  it("the browser example's page loads the bundle of a script that imports bptt", () => {
    const html = fs.readFileSync(path.join(EXAMPLES, 'browser', 'index.html'), 'utf8');
    const js = fs.readFileSync(path.join(EXAMPLES, 'browser', 'main.js'), 'utf8');
    expect(html).to.match(/<script type="module" src="\.\/bundle\.js"><\/script>/);
    expect(html).to.contain('npx esbuild main.js --bundle --format=esm --outfile=bundle.js');
    expect(js).to.match(/^import \{ Detector \} from 'bptt';$/m);
    expect(js).to.contain("document.body.dataset.status = 'done'");
  });
});
