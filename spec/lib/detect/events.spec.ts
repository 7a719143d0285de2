import { expect } from 'chai';
import { eventsToFlags, flagsToEvents, runs, runsOfOnes } from '../../../lib/detect/events';
import { ArgumentError } from '../../../lib/errors';

describe('detect/events', () => {
  it('runsOfOnes(): the one runs-of-ones loop, at the edges', () => {
    expect(runsOfOnes([])).to.deep.equal([]);
    expect(runsOfOnes([0, 0, 0])).to.deep.equal([]);
    expect(runsOfOnes([1])).to.deep.equal([[0, 0]]);
    expect(runsOfOnes([1, 1, 1, 1])).to.deep.equal([[0, 3]]);
    expect(runsOfOnes(Uint8Array.from([1, 0, 0, 1]))).to.deep.equal([
      [0, 0],
      [3, 3],
    ]);
    expect(runsOfOnes([1, 1, 0, 1, 0, 0, 1, 1])).to.deep.equal([
      [0, 1],
      [3, 3],
      [6, 7],
    ]);
    expect(runsOfOnes([0, 2, -1, 0])).to.deep.equal([[1, 2]]); // any non-zero value is on
    expect(() => runsOfOnes([0, NaN])).to.throw(
      ArgumentError,
      /^runsOfOnes\(flags\): expected .*, got NaN at index 1$/,
    );
  });

  it('runsOfOnes() agrees with a naive rule on random flags (start after a 0 or at 0, end before a 0 or at n-1)', () => {
    let seed = 7;
    for (let trial = 0; trial < 200; trial++) {
      const n = trial % 13;
      const flags = Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 1);
      const want: Array<[number, number]> = [];
      for (let i = 0; i < n; i++) {
        if (flags[i] === 1 && (i === 0 || flags[i - 1] === 0)) want.push([i, i]);
        if (flags[i] === 1) want[want.length - 1][1] = i;
      }
      expect(runsOfOnes(flags), flags.join('')).to.deep.equal(want);
    }
  });

  it('runs() finds maximal runs, including at both ends', () => {
    expect(runs([1, 1, 0, 0, 1, 0, 1])).to.deep.equal([
      { start: 0, end: 1 },
      { start: 4, end: 4 },
      { start: 6, end: 6 },
    ]);
    expect(runs([0, 0, 0])).to.deep.equal([]);
    expect(runs([])).to.deep.equal([]);
  });

  it('flagsToEvents merges gaps shorter than minGap only', () => {
    const flags = [0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1];
    const scores = [0, 5, 1, 7, 0, 0, 2, 0, 0, 0, 3];
    // gaps: 1 (between 1 and 3), 2 (between 3 and 6), 3 (between 6 and 10)
    expect(flagsToEvents(flags, scores).map((e) => [e.start, e.end])).to.deep.equal([
      [1, 1],
      [3, 3],
      [6, 6],
      [10, 10],
    ]);
    expect(flagsToEvents(flags, scores, { minGap: 2 })).to.deep.equal([
      { start: 1, end: 3, peakIndex: 3, peakScore: 7 },
      { start: 6, end: 6, peakIndex: 6, peakScore: 2 },
      { start: 10, end: 10, peakIndex: 10, peakScore: 3 },
    ]);
    expect(flagsToEvents(flags, scores, { minGap: 3 }).map((e) => [e.start, e.end])).to.deep.equal([
      [1, 6],
      [10, 10],
    ]);
    expect(flagsToEvents(flags, scores, { minGap: 4 }).map((e) => [e.start, e.end])).to.deep.equal([[1, 10]]);
  });

  it('the peak is the first maximum over the whole event, gap points included', () => {
    // the merged gap point (index 2) holds the highest score
    expect(flagsToEvents([1, 1, 0, 1], [1, 4, 9, 4], { minGap: 2 })).to.deep.equal([
      { start: 0, end: 3, peakIndex: 2, peakScore: 9 },
    ]);
    expect(flagsToEvents([1, 1, 1], [2, 5, 5])).to.deep.equal([{ start: 0, end: 2, peakIndex: 1, peakScore: 5 }]);
  });

  it('edge cases: nothing flagged, everything flagged, bad input', () => {
    expect(flagsToEvents([0, 0], [1, 2])).to.deep.equal([]);
    expect(flagsToEvents([1, 1], [1, 2])).to.deep.equal([{ start: 0, end: 1, peakIndex: 1, peakScore: 2 }]);
    expect(() => flagsToEvents([1, 0], [1])).to.throw(ArgumentError, 'flagsToEvents(scores)');
    expect(() => flagsToEvents([1], [1], { minGap: -1 })).to.throw(ArgumentError, 'minGap');
  });

  it('eventsToFlags inverts flagsToEvents (without merging)', () => {
    const flags = Uint8Array.from([0, 1, 1, 0, 1, 0, 0, 1]);
    const events = flagsToEvents(flags, new Float64Array(flags.length));
    expect(Array.from(eventsToFlags(events, flags.length))).to.deep.equal(Array.from(flags));
    expect(() => eventsToFlags([{ start: 2, end: 5 }], 4)).to.throw(ArgumentError, 'eventsToFlags(events)');
  });
});
