/**
 * kernels/ without fast/ and wasm/ stands alone: its sources import nothing from those folders (nor from outside kernels/),
 * the reference cells import only matmul.ts, activations.ts and check.ts, and the compiled files copied on their own
 * into an empty folder load and run (an LSTM forward and backward from the copy equals the one from dist/).
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot } from '../helpers/repo';
import * as kernels from '../../kernels/index';

const IMPORT = /^(?:import|export)\s[^'"]*?from\s+'([^']+)'/gm;

function importsOf(file: string): string[] {
  return [...fs.readFileSync(file, 'utf8').matchAll(IMPORT)].map((m) => m[1]);
}

describe('kernels/ without fast/ and wasm/', () => {
  const dir = path.join(repoRoot(), 'kernels');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));

  it('imports only files of its own top level', () => {
    expect(files).to.include.members(['lstm.ts', 'rnn.ts', 'gru.ts', 'index.ts', 'check.ts']);
    for (const f of files)
      for (const spec of importsOf(path.join(dir, f))) {
        expect(spec, `${f} imports ${spec}`).to.match(/^\.\/[a-z][a-z0-9]*\.js$/);
        expect(fs.existsSync(path.join(dir, spec.replace(/\.js$/, '.ts'))), `${f} imports ${spec}`).to.equal(true);
      }
  });

  it('the reference cells import only matmul.ts, activations.ts and check.ts', () => {
    for (const f of ['rnn.ts', 'lstm.ts', 'gru.ts']) {
      expect(importsOf(path.join(dir, f)).sort(), f).to.deep.equal(['./activations.js', './check.js', './matmul.js']);
    }
  });

  it('copied alone (the compiled top-level files only), it loads and gives the same LSTM as dist/', () => {
    const built = path.join(__dirname, '..', '..', 'kernels');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-kernels-'));
    try {
      for (const f of fs.readdirSync(built).filter((n) => n.endsWith('.js')))
        fs.copyFileSync(path.join(built, f), path.join(tmp, f));
      const copy = require(path.join(tmp, 'index.js')) as typeof kernels;
      expect(copy.lstmForward).to.not.equal(kernels.lstmForward);
      const run = (k: typeof kernels): Float64Array[] => {
        const T = 3,
          B = 2,
          D = 2,
          H = 3;
        const fill = (n: number, s: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(1 + i * s));
        const p = { W: fill(D * 4 * H, 0.7), U: fill(H * 4 * H, 1.3), b: fill(4 * H, 2.1) },
          x = fill(T * B * D, 0.9);
        const ws = k.lstmWorkspace(T, B, D, H, Float64Array);
        k.lstmForward(ws, p, x);
        const g = { dW: new Float64Array(D * 4 * H), dU: new Float64Array(H * 4 * H), db: new Float64Array(4 * H) };
        const dx = new Float64Array(T * B * D),
          dh0 = new Float64Array(B * H),
          dc0 = new Float64Array(B * H);
        k.lstmBackward(g, dx, dh0, dc0, fill(T * B * H, 0.3), null, null, ws, p, x);
        return [Float64Array.from(ws.h), g.dW, g.dU, g.db, dx, dh0, dc0];
      };
      const a = run(copy),
        b = run(kernels);
      expect(a.map((v) => Array.from(v))).to.deep.equal(b.map((v) => Array.from(v)));
      expect(a[0].some((v) => v !== 0)).to.equal(true);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
