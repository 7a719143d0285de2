/**
 * The default Detector is causal: a point's score, threshold and flag depend only on the points up to it. So scoring a
 * prefix gives, on its points, the same bits as scoring the whole series, and stream() gives the same as detect().
 * Checked for every model on a synthetic series and on the first 900 rows of a real NAB series
 * (spec/fixtures/nab/ec2_request_latency_system_failure.head900.csv, MIT, see spec/fixtures/nab/LICENSE).
 */
import { expect } from 'chai';
import { ArgumentError } from '../../../lib/errors';
import * as fs from 'fs';
import * as path from 'path';
import { Detector, type DetectResult } from '../../../lib/detect/detector';
import type { DetectorModel } from '../../../lib/detect/types';
import { makeRng } from '../../helpers/rng';

const FIXTURE = path.resolve(__dirname, '../../../../spec/fixtures/nab/ec2_request_latency_system_failure.head900.csv');

function realSeries(): number[] {
  const lines = fs.readFileSync(FIXTURE, 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => Number(l.split(',')[1]));
}

function syntheticSeries(): number[] {
  const rng = makeRng('causal');
  const x = Array.from({ length: 700 }, (_, t) => Math.sin(t / 7) + 0.1 * rng());
  x[500] = 4;
  for (let t = 600; t < 620; t++) x[t] = 0.2;
  return x;
}

function samePrefix(full: DetectResult, part: DetectResult, k: number, what: string): void {
  expect(part.scores.length, what).to.equal(k);
  for (let t = 0; t < k; t++) {
    if (!Object.is(part.scores[t], full.scores[t]))
      expect.fail(`${what}: score[${t}] ${part.scores[t]} ≠ ${full.scores[t]} (prefix of ${k})`);
    if (part.flags[t] !== full.flags[t])
      expect.fail(`${what}: flag[${t}] ${part.flags[t]} ≠ ${full.flags[t]} (prefix of ${k})`);
    if (!Object.is(part.thresholds[t], full.thresholds[t]))
      expect.fail(`${what}: threshold[${t}] differs (prefix of ${k})`);
  }
}

describe('Detector: causal by default', () => {
  const models: DetectorModel[] = ['lstm-ae', 'gru-ae', 'dense-ae', 'lstm-forecast', 'zscore', 'iqr'];
  const data: [string, number[]][] = [
    ['synthetic', syntheticSeries()],
    ['NAB ec2_request_latency (900 rows)', realSeries()],
  ];

  for (const [name, x] of data) {
    for (const model of models) {
      it(`${model} on ${name}: every prefix scores and flags as the whole series; stream() equals detect()`, () => {
        const W = 16;
        const d = new Detector({ model, window: W, hidden: 6, epochs: 2, seed: 5, workers: 1 }).fit(x.slice(0, 300));
        expect(d.options.causal).to.equal(true);
        const full = d.detect(x);
        expect(
          full.flags.reduce((a, b) => a + b, 0),
          `${model} flags something on ${name}`,
        ).to.be.above(0);
        for (const k of [W + 1, W + 7, 301, Math.floor(x.length * 0.7), x.length - 1])
          samePrefix(full, d.detect(x.slice(0, k)), k, model);
        const s = d.stream();
        for (let t = 0; t < x.length; t++) {
          const r = s.push(x[t]);
          if (r === null) {
            expect(full.flags[t], `warm-up point ${t} is never flagged`).to.equal(0);
            continue;
          }
          expect(r.index).to.equal(t);
          if (!Object.is(r.score, full.scores[t]) || r.flag !== full.flags[t])
            expect.fail(`${model}: stream point ${t}: ${r.score}/${r.flag} vs ${full.scores[t]}/${full.flags[t]}`);
        }
        expect(s.flush()).to.deep.equal([]);
      });
    }
  }

  it("warm-up points score 0: the first W−1 points of an autoencoder do not borrow the first window's later errors", () => {
    const x = syntheticSeries();
    const r = new Detector({ model: 'dense-ae', window: 12, hidden: [6, 3], epochs: 2, seed: 1, workers: 1 })
      .fit(x.slice(0, 300))
      .detect(x);
    expect(r.firstScored).to.equal(11);
    expect(Array.from(r.scores.subarray(0, 11))).to.deep.equal(new Array(11).fill(0));
    expect(r.scores[11]).to.be.above(0);
  });

  it('look-ahead choices need causal: false, with a message that says why', () => {
    expect(() => new Detector({ combine: 'mean' })).to.throw(
      ArgumentError,
      /Detector\(combine\): 'mean' scores a point with windows that end up to W−1 points after it.*causal: false/,
    );
    expect(() => new Detector({ combine: 'max' })).to.throw(ArgumentError, /look-ahead/);
    expect(() => new Detector({ threshold: 'dynamic' })).to.throw(
      ArgumentError,
      /Detector\(threshold\): 'dynamic'.*causal: false/,
    );
    expect(() => new Detector({ causal: 'no' as unknown as boolean })).to.throw(
      ArgumentError,
      /Detector\(causal\): expected true or false/,
    );
    const off = new Detector({ causal: false });
    expect(off.options.combine).to.equal('mean');
    expect(new Detector({ causal: false, threshold: 'dynamic', combine: 'max' }).options.combine).to.equal('max');
  });

  it('offline (causal: false, combine mean) looks ahead: a prefix changes the scores near its end', () => {
    const x = syntheticSeries();
    const d = new Detector({
      model: 'dense-ae',
      causal: false,
      window: 12,
      hidden: [6, 3],
      epochs: 2,
      seed: 1,
      workers: 1,
    }).fit(x.slice(0, 300));
    const full = d.detect(x),
      part = d.detect(x.slice(0, 505));
    let differ = 0;
    for (let t = 0; t < 505; t++) if (!Object.is(full.scores[t], part.scores[t])) differ++;
    expect(differ).to.be.within(1, 11);
  });
});
