import { expect } from 'chai';
import {
  canonicalLabels,
  seriesId,
  exposedLabels,
  formatSelector,
  parseSelector,
  isLabelSet,
} from '../../../lib/watch/labels';
import { ArgumentError } from '../../../lib/errors';

describe('watch/labels: series identity', function () {
  it('the same label set in any key order is the same series; another value, label or query is another', () => {
    const q = 'rate(x[1m])';
    const a = seriesId(q, { job: 'node', instance: 'a:9100' });
    expect(a).to.match(/^[0-9a-f]{16}$/);
    expect(seriesId(q, { instance: 'a:9100', job: 'node' })).to.equal(a);
    expect(canonicalLabels({ b: '2', a: '1' })).to.equal(canonicalLabels({ a: '1', b: '2' }));
    const others = [
      seriesId(q, { job: 'node', instance: 'b:9100' }),
      seriesId(q, { job: 'node', instance: 'a:9100', cpu: '0' }),
      seriesId('rate(y[1m])', { job: 'node', instance: 'a:9100' }),
      seriesId(q, { job: 'node', instance: 'a:9100', __name__: 'x' }),
    ];
    expect(new Set([a, ...others]).size).to.equal(5);
    // A label value cannot smuggle another label in.
    expect(seriesId(q, { a: '1","b":"2' })).to.not.equal(seriesId(q, { a: '1', b: '2' }));
  });

  it('exposed labels: the original ones, __name__ as bptt_metric, and the query as bptt_query', () => {
    expect(exposedLabels('up', { __name__: 'up', job: 'node' })).to.deep.equal({
      bptt_metric: 'up',
      bptt_query: 'up',
      job: 'node',
    });
    expect(exposedLabels('sum(rate(x[1m]))', {})).to.deep.equal({ bptt_query: 'sum(rate(x[1m]))' });
  });

  it('selectors: parse what formatSelector writes, with escapes; errors name the argument', () => {
    const l = { job: 'node', path: 'C:\\tmp "x"\nz' };
    expect(parseSelector(formatSelector(l), '--series')).to.deep.equal(l);
    expect(parseSelector(' { a="1" , b = "2" } ', '--series')).to.deep.equal({ a: '1', b: '2' });
    expect(parseSelector('{}', '--series')).to.deep.equal({});
    for (const bad of ['a="1"', '{a=~"1"}', '{a!="1"}', '{a="1"', '{a="1" b="2"}', '{a="1",a="2"}', '{1a="x"}']) {
      expect(() => parseSelector(bad, '--series'), bad)
        .to.throw(ArgumentError)
        .with.property('argument', '--series');
    }
  });

  it('isLabelSet accepts only objects of valid names to strings', () => {
    expect(isLabelSet({ a: 'x', __name__: 'y' })).to.equal(true);
    expect(isLabelSet({ a: 1 })).to.equal(false);
    expect(isLabelSet({ 'a-b': 'x' })).to.equal(false);
    expect(isLabelSet(['a'])).to.equal(false);
    expect(isLabelSet(null)).to.equal(false);
  });
});
