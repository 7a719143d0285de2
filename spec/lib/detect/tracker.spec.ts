import { expect } from 'chai';
import { flagsToEvents } from '../../../lib/detect/events';
import { EventTracker } from '../../../lib/detect/tracker';
import { makeRng } from '../../helpers/rng';

describe('lib/detect/tracker: streaming events', () => {
  it('the doc example: a gap shorter than minGap merges, the peak may lie in the gap', () => {
    const t = new EventTracker<string>(2);
    const scores = [0, 5, 9, 7, 0, 0, 2],
      flags = [0, 1, 0, 1, 0, 0, 1];
    flags.forEach((f, i) => t.push(i, scores[i], f as 0 | 1, `row ${i}`));
    t.close();
    expect(t.events).to.deep.equal([
      { start: 1, end: 3, peakIndex: 2, peakScore: 9, startRow: 'row 1', endRow: 'row 3', peakRow: 'row 2' },
      { start: 6, end: 6, peakIndex: 6, peakScore: 2, startRow: 'row 6', endRow: 'row 6', peakRow: 'row 6' },
    ]);
    expect(t.count).to.equal(2);
  });

  it('equals flagsToEvents on random flags, scores with ties, and every minGap', () => {
    const rng = makeRng(13);
    for (let trial = 0; trial < 60; trial++) {
      const n = 1 + Math.floor(rng() * 300);
      const flags = Array.from({ length: n }, () => (rng() < 0.2 ? 1 : 0));
      const scores = Array.from({ length: n }, () => Math.floor(rng() * 6)); // small integers: many ties
      const minGap = trial % 6;
      const t = new EventTracker<number>(minGap);
      flags.forEach((f, i) => t.push(i, scores[i], f, 1000 + i));
      t.close();
      const want = flagsToEvents(flags, scores, { minGap });
      expect(
        t.events.map(({ start, end, peakIndex, peakScore }) => ({ start, end, peakIndex, peakScore })),
        `trial ${trial}`,
      ).to.deep.equal(want);
      for (const e of t.events)
        expect([e.startRow, e.endRow, e.peakRow]).to.deep.equal([1000 + e.start, 1000 + e.end, 1000 + e.peakIndex]);
    }
  });

  it('keeps at most maxEvents and counts them all', () => {
    const t = new EventTracker(0, 3);
    for (let i = 0; i < 20; i++) t.push(i, i, (i % 2) as 0 | 1, undefined);
    t.close();
    expect(t.count).to.equal(10);
    expect(t.events.map((e) => e.start)).to.deep.equal([1, 3, 5]);
  });
});
