/**
 * The lab's build (lab/build.js, `npm run lab`) without a browser: the page sources type-check under their own
 * tsconfig (DOM library; the root tsconfig does not compile lab/'s page files), and the build writes one HTML file that
 * loads nothing from anywhere (no src/href but data:) and carries the reference cells' equations.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot } from '../helpers/repo';

interface LabBuild {
  buildLab(out: string): Promise<{ file: string; bytes: number }>;
  equations(cell: string): { forward: string; backward: string };
}

describe('lab/build.js: the one-file lab page', function () {
  this.timeout(120000);
  const root = repoRoot();
  const build = require(path.join(root, 'lab', 'build.js')) as LabBuild;

  it('the page sources type-check: tsc -p lab/tsconfig.json', () => {
    const tsc = require.resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'lab', 'tsconfig.json')], {
      encoding: 'utf8',
      cwd: root,
    });
    expect(r.status, r.stdout + r.stderr).to.equal(0);
  });

  it('writes one self-contained HTML file: inline script and style, no outside src or href, the equations inside', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-lab-build-'));
    try {
      const r = await build.buildLab(path.join(dir, 'lab.html'));
      expect(fs.readdirSync(dir)).to.deep.equal(['lab.html']);
      const html = fs.readFileSync(r.file, 'utf8');
      expect(r.bytes).to.equal(Buffer.byteLength(html));
      const refs = html.match(/\b(src|href)\s*=\s*["']?(?!data:)[^"'\s>]+/gi) ?? [];
      expect(refs, 'attributes that load something').to.deep.equal([]);
      expect(html).to.not.contain('/* LAB_SCRIPT */');
      expect(html).to.not.contain('/* LAB_STYLE */');
      expect(html.match(/<script>/g), 'one inline script').to.have.length(1);
      // The equations travel as JSON strings in the script: every line of each cell's header block is there.
      for (const cell of ['rnn', 'lstm', 'gru']) {
        const eq = build.equations(cell);
        for (const line of [...eq.forward.split('\n'), ...eq.backward.split('\n')]) {
          expect(html, `${cell}: ${line}`).to.contain(JSON.stringify(line).slice(1, -1));
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("cuts each cell's Forward…Backward block out of its kernel header", () => {
    const lstm = build.equations('lstm');
    expect(lstm.forward.split('\n')[0]).to.match(/^Forward\s+Z = X·W \+ b/);
    expect(lstm.backward.split('\n')[0]).to.match(/^Backward\s+dh ← dhT/);
    expect(lstm.backward).to.contain('dc ← dc⊙f');
    expect(lstm.backward).to.not.contain('Repeated input');
    const gru = build.equations('gru');
    expect(gru.forward).to.contain('h_t = z⊙h_{t-1} + (1−z)⊙hh');
    expect(gru.backward).to.contain('dh ← dh⊙z');
    expect(() => build.equations('elman')).to.throw(/ENOENT|elman/);
  });
});
