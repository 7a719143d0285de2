/**
 * The BPTT lab page in headless Chromium (spec/helpers/chromium.ts): built from the sources into one HTML file, served
 * from a loopback server of the test's own. It loads with no console errors and no failed or outside requests, trains
 * in its Web Worker (the loss falls from its first value) while the page's timer keeps ticking, draws every canvas,
 * shows the kernels' own equations, flags the spike, and its controls switch the cell and the recurrent init. The
 * detector choice fits the convolutional and attention models ('conv-ae', 'tcn-forecast', 'lstm-attn-ae') and shows
 * their result; for 'lstm-attn-ae' it draws the attention of the window at the flagged spike, and the inspected-window
 * slider moves it.
 *
 * LAB_SCREENSHOT=docs/lab.png (a path) makes the first test save a screenshot of the page there.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Browser } from 'puppeteer-core';
import { canvasInk, launchChromium, openPage, requireChromium, serveFiles, type FileServer } from '../helpers/chromium';
import { repoRoot } from '../helpers/repo';
import { SPIKE_AT } from '../../lab/series';

interface LabBuild {
  buildLab(out: string): Promise<{ file: string; bytes: number }>;
}

interface LabState {
  ticks: number;
  frames: number;
  ticksAtProgress: number[];
  running: boolean;
  runs: number;
  step: number;
  losses: number[];
  dhNorm: number[];
  detector: { model: string; flagged: number[]; backend: string; threshold: number; peak: number } | null;
  attention: { start: number; window: number; rowSums: number[] } | null;
  errors: string[];
}

/** The page's globals, typed as far as these specs use them (the spec's tsconfig has no DOM library). */
interface Control {
  value: string;
  textContent: string | null;
  hidden: boolean;
  click(): void;
  dispatchEvent(e: unknown): boolean;
}
declare class Event {
  constructor(type: string);
}
declare const window: { labState: LabState };
declare const document: { getElementById(id: string): Control };
declare function requestAnimationFrame(f: () => void): number;

/** The doc-comment lines of a kernel file, without the leading " * ". */
function headerLines(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return text
    .slice(0, text.indexOf('*/'))
    .split('\n')
    .map((l) => l.replace(/^\s*\/?\*\*?\s?/, ''));
}

describe('browser: the BPTT lab page (headless Chromium)', function () {
  this.timeout(240000);
  let browser: Browser | undefined;
  let server: FileServer | undefined;
  let dir = '';

  before(async function () {
    if (!requireChromium(this)) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-lab-'));
    const build = require(path.join(repoRoot(), 'lab', 'build.js')) as LabBuild;
    const r = await build.buildLab(path.join(dir, 'index.html'));
    server = await serveFiles({ '/index.html': { body: fs.readFileSync(r.file) } });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loads cleanly, trains in the worker while the page stays responsive, draws, and flags the spike', async () => {
    if (browser === undefined || server === undefined) throw new Error('before() did not start the browser');
    const w = await openPage(browser, server.url('/index.html'));
    const textOf = (sel: string): Promise<string> =>
      w.page.$eval(sel, (e) => (e as unknown as Control).textContent ?? '');
    await w.page.setViewport({ width: 1280, height: 1000 });
    // The page starts a run on load (LSTM, sine with a spike, 400 steps), then fits the detector.
    await w.page.waitForFunction(() => window.labState.detector !== null || window.labState.errors.length > 0, {
      timeout: 200000,
    });
    const s = await w.page.evaluate(() => window.labState);
    expect(s.errors).to.deep.equal([]);
    expect(w.problems()).to.deep.equal([]);
    expect(server.missing).to.deep.equal([]);

    // Trained: every step reported, the loss fell from its first value.
    expect(s.step).to.equal(400);
    expect(s.losses).to.have.length(400);
    const tail = s.losses.slice(-20).reduce((a, b) => a + b, 0) / 20;
    expect(tail, `first loss ${s.losses[0]}, last 20 average ${tail}`).to.be.below(s.losses[0] / 2);

    // Responsive: the page's 20 ms timer ticked between the worker's progress messages (training on the page's
    // thread would have held every tick until the end). How many messages fall between two ticks depends on the
    // machine's speed (a fast one posts several per 20 ms), so the check is that ticks ran during training, more
    // than once, not a share of the messages.
    const ticks = s.ticksAtProgress;
    expect(ticks.length, 'progress messages').to.be.above(10);
    expect(ticks[ticks.length - 1], `ticks at the progress messages: ${ticks.join(',')}`).to.be.above(ticks[0]);
    let advanced = 0;
    for (let k = 1; k < ticks.length; k++) if (ticks[k] > ticks[k - 1]) advanced++;
    expect(advanced, `progress messages after which the timer had ticked: ${ticks.join(',')}`).to.be.at.least(2);
    expect(s.frames, 'animation frames').to.be.above(0);

    // The detector flagged the spike.
    const spike = Math.floor(400 * SPIKE_AT);
    expect(s.detector?.model).to.equal('lstm-ae');
    expect(s.detector?.flagged, 'flagged points').to.include(spike);
    expect(s.detector?.flagged.length).to.be.at.most(5);

    // Drawn: every canvas has pixels of more than one colour.
    await w.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    const inks = await canvasInk(w.page, 'canvas');
    expect(inks.length, 'canvases: series, score, loss, gradient, x, h, c, 4 gates').to.equal(11);
    for (const c of inks) expect(c.ink, `pixels drawn on ${c.id}`).to.be.above(200);

    // The equations beside the views are the kernel header's lines.
    const header = headerLines(path.join(repoRoot(), 'kernels', 'lstm.ts'));
    for (const id of ['#eq-forward', '#eq-backward']) {
      const text = await textOf(id);
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      expect(lines.length, id).to.be.above(2);
      for (const l of lines) expect(header, `${id} line not in kernels/lstm.ts: ${l}`).to.include(l);
    }
    expect(await textOf('#eq-forward')).to.contain('c_t = f⊙c_{t-1} + i⊙g');

    const shot = process.env['LAB_SCREENSHOT'];
    if (shot !== undefined && shot !== '') {
      await w.page.setViewport({ width: 1280, height: 1000 });
      const png = await w.page.screenshot({ fullPage: true, type: 'png' });
      fs.writeFileSync(path.resolve(repoRoot(), shot), png);
    }
    await w.page.close();
  });

  it('the controls drive the worker: tanh RNN gradients vanish with U small and explode with U large', async () => {
    if (browser === undefined || server === undefined) throw new Error('before() did not start the browser');
    const w = await openPage(browser, server.url('/index.html'));
    const textOf = (sel: string): Promise<string> =>
      w.page.$eval(sel, (e) => (e as unknown as Control).textContent ?? '');
    const ratio = async (scale: string): Promise<number> => {
      const runs = await w.page.evaluate(() => window.labState.runs);
      await w.page.evaluate((sc: string) => {
        const set = (id: string, v: string): void => {
          document.getElementById(id).value = v;
        };
        set('cell', 'rnn');
        set('hidden', '16');
        set('window', '32');
        set('scale', sc);
        set('steps', '5');
        set('series', 'sine');
        set('detector', 'none');
        document.getElementById('train').click();
      }, scale);
      await w.page.waitForFunction(
        (n: number) => window.labState.runs > n && !window.labState.running && window.labState.step === 5,
        { timeout: 60000 },
        runs,
      );
      const d = await w.page.evaluate(() => window.labState.dhNorm);
      expect(d).to.have.length(33);
      return d[0] / d[32];
    };
    expect(await ratio('0.25'), 'small U: ‖dL/dh_0‖ / ‖dL/dh_T‖').to.be.below(1e-4);
    expect(await ratio('2.5'), 'large U: ‖dL/dh_0‖ / ‖dL/dh_T‖').to.be.above(3);
    expect(await textOf('#eq-forward')).to.contain('h_t = φ(z_t)');

    // Stop: the worker takes the message between two chunks of steps and ends the run early.
    await w.page.evaluate(() => {
      document.getElementById('steps').value = '100000';
      document.getElementById('train').click();
    });
    await w.page.waitForFunction(() => window.labState.running && window.labState.step >= 10, { timeout: 60000 });
    await w.page.evaluate(() => document.getElementById('stop').click());
    await w.page.waitForFunction(() => !window.labState.running, { timeout: 60000 });
    expect(await w.page.evaluate(() => window.labState.step)).to.be.below(100000);
    expect(await textOf('#status')).to.match(/^stopped: \d+ steps$/);

    // Pasted numbers that are not numbers: the status names the item; nothing is thrown or logged as an error.
    await w.page.evaluate(() => {
      document.getElementById('series').value = 'pasted';
      document.getElementById('pasted').value = '1, 2, x3';
      document.getElementById('train').click();
    });
    expect(await textOf('#status')).to.match(/item 3 is "x3", expected a finite number/);
    expect(w.problems()).to.deep.equal([]);
    await w.page.close();
  });

  it('fits the conv-ae, tcn-forecast and lstm-attn-ae detectors and draws lstm-attn-ae’s attention', async () => {
    if (browser === undefined || server === undefined) throw new Error('before() did not start the browser');
    const w = await openPage(browser, server.url('/index.html'));
    await w.page.setViewport({ width: 1280, height: 1000 });
    const spike = Math.floor(400 * SPIKE_AT);
    const fit = async (detector: string): Promise<LabState> => {
      const runs = await w.page.evaluate(() => window.labState.runs);
      await w.page.evaluate((d: string) => {
        const set = (id: string, v: string): void => {
          document.getElementById(id).value = v;
        };
        set('cell', 'lstm');
        set('hidden', '8');
        set('window', '24');
        set('steps', '5');
        set('series', 'sine-spike');
        set('detector', d);
        document.getElementById('train').click();
      }, detector);
      await w.page.waitForFunction(
        (n: number) =>
          (window.labState.runs > n && window.labState.detector !== null) || window.labState.errors.length > 0,
        { timeout: 200000 },
        runs,
      );
      return w.page.evaluate(() => window.labState);
    };
    const textOf = (sel: string): Promise<string> =>
      w.page.$eval(sel, (e) => (e as unknown as Control).textContent ?? '');
    const panelHidden = (): Promise<boolean> =>
      w.page.$eval('#attention-panel', (e) => (e as unknown as Control).hidden);

    const conv = await fit('conv-ae');
    expect(conv.errors).to.deep.equal([]);
    expect(conv.detector?.model).to.equal('conv-ae');
    expect(conv.detector?.flagged, 'conv-ae flags the spike').to.include(spike);
    expect(conv.attention).to.equal(null);
    expect(await panelHidden()).to.equal(true);
    expect(await textOf('#detector-summary')).to.match(/^ conv-ae \(backend \w+\): \d+ event/);

    const tcn = await fit('tcn-forecast');
    expect(tcn.errors).to.deep.equal([]);
    expect(tcn.detector?.model).to.equal('tcn-forecast');
    // The forecaster's highest (smoothed) error is at the spike or within the window after it.
    expect(tcn.detector?.peak, 'tcn-forecast highest score').to.be.within(spike, spike + 24);
    expect(await textOf('#detector-summary')).to.match(/^ tcn-forecast \(backend/);

    const attn = await fit('lstm-attn-ae');
    expect(attn.errors).to.deep.equal([]);
    expect(attn.detector?.model).to.equal('lstm-attn-ae');
    expect(attn.detector?.flagged, 'lstm-attn-ae flags the spike').to.include(spike);
    const a = attn.attention;
    expect(a, 'attention drawn').to.not.equal(null);
    if (a === null) return;
    expect(a.window).to.equal(24);
    // The window ending at the flagged spike, whose rows are softmaxes.
    expect(a.start + a.window - 1, 'the attention window ends at the flagged spike').to.equal(spike);
    expect(a.rowSums).to.have.length(24);
    for (const r of a.rowSums) expect(Math.abs(r - 1), `row sum ${r}`).to.be.below(1e-4);
    expect(await panelHidden()).to.equal(false);
    await w.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    const inks = await canvasInk(w.page, '#attention canvas');
    expect(inks.length, 'attention map and strip').to.equal(2);
    for (const c of inks) expect(c.ink, 'pixels drawn on the attention views').to.be.above(20);
    expect(await textOf('#attention-summary')).to.match(new RegExp(`^window ${a.start}–${spike} `));

    // The inspected-window slider moves the attention to the window it selects.
    await w.page.evaluate(() => {
      const s = document.getElementById('inspect-at');
      s.value = '100';
      s.dispatchEvent(new Event('input'));
    });
    // The state changes when the worker's answer arrives; the summary's text at the next frame (scheduleDraw).
    await w.page.waitForFunction(
      () =>
        window.labState.attention?.start === 100 &&
        (document.getElementById('attention-summary')?.textContent ?? '').startsWith('window 100–123 '),
      { timeout: 60000 },
    );
    expect(await textOf('#attention-summary')).to.match(/^window 100–123 /);

    // Back to a recurrent detector: the panel hides.
    const back = await fit('cell-ae');
    expect(back.detector?.model).to.equal('lstm-ae');
    expect(back.attention).to.equal(null);
    expect(await panelHidden()).to.equal(true);
    expect(w.problems()).to.deep.equal([]);
    await w.page.close();
  });
});
