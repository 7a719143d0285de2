/**
 * Detector model 'lstm-attn-ae' (attentionAutoencoder): fits and flags a spike, detect({ attention: true }) returns a
 * softmax row per decoder step for every scored window, the same scores on 1 and 2 threads, save/load through the
 * detector file format, streaming equals batch, and the option's errors.
 */
import { expect } from 'chai';
import { Detector } from '../../../lib/index';
import { ArgumentError } from '../../../lib/errors';
import { attentionStrips, renderReport, type ReportData } from '../../../lib/cli/report';

const W = 12;

function series(n: number, spikeAt = -1): number[] {
  return Array.from({ length: n }, (_, i) => Math.sin(i / 3) + 0.5 * Math.sin(i / 7) + (i === spikeAt ? 4 : 0));
}

describe("Detector model 'lstm-attn-ae'", () => {
  let detector: Detector;
  before(() => {
    detector = new Detector({
      model: 'lstm-attn-ae',
      window: W,
      hidden: 6,
      epochs: 4,
      batchSize: 16,
      learningRate: 0.01,
      threshold: 'quantile:0.99',
      seed: 1,
      workers: 1,
    }).fit(series(300));
  });

  it('builds the attention autoencoder and flags a spike', () => {
    expect(detector.options.model).to.equal('lstm-attn-ae');
    expect(detector.expectedModel(1).layers.map((l) => l.className)).to.deep.equal([
      'LSTM',
      'AttentionDecoder',
      'TimeDistributed',
    ]);
    const r = detector.detect(series(120, 80));
    expect(r.flags[80]).to.equal(1);
    expect(r.attention).to.equal(undefined);
  });

  it('detect({ attention: true }): α [W, W] per scored window, each row a softmax; scores unchanged', () => {
    const x = series(90, 60);
    const plain = detector.detect(x);
    const r = detector.detect(x, { attention: true });
    expect([...r.scores]).to.deep.equal([...plain.scores]);
    const a = r.attention;
    expect(a).to.not.equal(undefined);
    if (a === undefined) return;
    expect(a.window).to.equal(W);
    expect(a.count).to.equal(90 - W + 1);
    expect(a.weights.length).to.equal(a.count * W * W);
    for (let row = 0; row < a.count * W; row++) {
      let s = 0;
      for (let j = 0; j < W; j++) {
        const v = a.weights[row * W + j];
        expect(v).to.be.within(0, 1);
        s += v;
      }
      expect(s).to.be.closeTo(1, 1e-5);
    }
    // Not all the same: the weights depend on the window's values.
    expect(a.weights.slice(0, W * W)).to.not.deep.equal(a.weights.slice(50 * W * W, 51 * W * W));
  });

  it('the same scores on 1 and 2 threads', () => {
    const x = series(200, 150);
    expect([...detector.detect(x, { workers: 2 }).scores]).to.deep.equal([
      ...detector.detect(x, { workers: 1 }).scores,
    ]);
  });

  it('saves and loads through the detector file format, and streams like detect', () => {
    const copy = Detector.fromJSON(JSON.parse(JSON.stringify(detector.toJSON())));
    const x = series(80, 50);
    const r = detector.detect(x);
    expect([...copy.detect(x).scores]).to.deep.equal([...r.scores]);
    const stream = copy.stream();
    let pushed = 0;
    for (let t = 0; t < x.length; t++) {
      const p = stream.push(x[t]);
      if (p === null) {
        expect(r.flags[t], `warm-up point ${t}`).to.equal(0);
        continue;
      }
      pushed++;
      expect(p.index).to.equal(t);
      if (!Object.is(p.score, r.scores[t]) || p.flag !== r.flags[t])
        expect.fail(`stream point ${t}: ${p.score}/${p.flag} vs ${r.scores[t]}/${r.flags[t]}`);
    }
    expect(pushed).to.equal(x.length - W + 1);
  });

  it("the HTML report draws a heat strip per event from the peak's window", () => {
    const x = series(120, 80);
    const r = detector.detect(x, { attention: true });
    expect(r.events.length).to.be.greaterThan(0);
    const strips = attentionStrips(r.attention!, r.events);
    const e0 = r.events[0];
    expect(strips[0].event).to.equal(0);
    expect(strips[0].start).to.equal(e0.peakIndex - W + 1);
    const row = ((e0.peakIndex - W + 1) * W + W - 1) * W;
    expect(strips[0].weights).to.deep.equal(Array.from(r.attention!.weights.subarray(row, row + W)));
    const data: ReportData = {
      title: 't',
      source: 's',
      timeKind: 'index',
      timeColumn: null,
      times: null,
      timeValues: null,
      columns: ['v'],
      values: Float64Array.from(x),
      n: x.length,
      scores: r.scores,
      thresholds: r.thresholds,
      flags: r.flags,
      events: r.events,
      labels: null,
      facts: [],
      warnings: [],
    };
    expect(renderReport(data)).to.not.include('Where the model looked');
    const html = renderReport({ ...data, attention: strips });
    expect(html).to.include('Where the model looked');
    expect(html).to.include(`Event 1: the reconstruction of row ${e0.peakIndex} (peak)`);
    expect(html.match(/<title>row \d+: α /g)?.length).to.equal(strips.length * W);
  });

  it('attention is refused for another model, and must be a boolean', () => {
    const other = new Detector({ model: 'zscore', window: 5, threshold: 'fixed:3' }).fit(series(50));
    expect(() => other.detect(series(20), { attention: true })).to.throw(ArgumentError, 'detect(attention)');
    expect(() => detector.detect(series(20), { attention: 'yes' as unknown as boolean })).to.throw(
      ArgumentError,
      'detect(attention)',
    );
    expect(() => new Detector({ model: 'lstm-attn-ae', hidden: 0 })).to.throw(ArgumentError, 'Detector(hidden)');
  });
});
