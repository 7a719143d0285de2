/**
 * The documented "train in a Web Worker" recipe in headless Chromium: a worker that imports the library fits a Detector
 * and posts `detector.toJSON()` back; the page restores it with `Detector.fromJSON`, and its `detect()` output equals
 * the worker's bit for bit. Also which backend the library picks in Chromium (wasm: Chromium validates WebAssembly
 * SIMD), and that Node, given the same JSON, detects the same flags with scores equal to float32 rounding.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser } from 'puppeteer-core';
import { launchChromium, openPage, requireChromium, serveFiles, type FileServer } from '../helpers/chromium';
import { repoRoot } from '../helpers/repo';
import { Detector } from '../../lib/detect/detector';
import { SPIKE_AT } from '../../lab/series';

interface Side {
  scores: number[];
  flags: number[];
  threshold: number;
  backend: string;
}
interface Outcome {
  series: number[];
  json: unknown;
  worker: Side;
  page: Side;
  error?: string;
}
declare const window: { recipe: Outcome | null };

describe('browser: train a Detector in a Web Worker, restore it on the page (headless Chromium)', function () {
  this.timeout(240000);
  let browser: Browser | undefined;
  let server: FileServer | undefined;
  let dir = '';

  before(async function () {
    if (!requireChromium(this)) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-recipe-'));
    const build = require(path.join(repoRoot(), 'lab', 'build.js')) as { buildRecipe(dir: string): Promise<string> };
    await build.buildRecipe(dir);
    server = await serveFiles(dir);
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it("the page's Detector.fromJSON(worker's toJSON()).detect() equals the worker's detect(); the backend is wasm", async () => {
    if (browser === undefined || server === undefined) throw new Error('before() did not start the browser');
    const w = await openPage(browser, server.url('/index.html'));
    await w.page.waitForFunction(() => window.recipe !== null, { timeout: 200000 });
    const r = (await w.page.evaluate(() => window.recipe)) as Outcome;
    expect(r.error, 'the worker or page failed').to.equal(undefined);
    expect(w.problems()).to.deep.equal([]);
    expect(server.missing).to.deep.equal([]);

    const n = r.series.length;
    expect(r.worker.scores).to.have.length(n);
    expect(r.page.scores, 'scores: page (restored) vs worker (fitted)').to.deep.equal(r.worker.scores);
    expect(r.page.flags).to.deep.equal(r.worker.flags);
    expect(r.page.threshold).to.equal(r.worker.threshold);
    expect(r.worker.flags[Math.floor(n * SPIKE_AT)], 'the spike is flagged').to.equal(1);
    console.log(`      (Chromium backend: worker ${r.worker.backend}, page ${r.page.backend})`);
    expect(r.worker.backend, 'the backend in a Chromium worker').to.equal('wasm');
    expect(r.page.backend, 'the backend on the Chromium page').to.equal('wasm');

    // Node restores the browser-trained detector from the same JSON: the same flags, scores to float32 rounding
    // (Node may run the js path here: npm test runs the suite once with BPTT_BACKEND=js).
    const nodeResult = Detector.fromJSON(r.json).detect(r.series);
    expect(Array.from(nodeResult.flags)).to.deep.equal(r.page.flags);
    let worst = 0;
    nodeResult.scores.forEach((v, i) => {
      worst = Math.max(worst, Math.abs(v - r.page.scores[i]) / Math.max(Math.abs(v), 1e-3));
    });
    console.log(
      `      (Node ${process.env['BPTT_BACKEND'] ?? 'auto'} vs Chromium: largest relative score difference ${worst})`,
    );
    expect(worst, 'largest relative score difference, Node vs Chromium').to.be.below(1e-4);
    await w.page.close();
  });
});
