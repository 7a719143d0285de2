import { expect } from 'chai';
import {
  renderExposition,
  escapeLabelValue,
  escapeHelp,
  formatValue,
  type MetricFamily,
} from '../../../lib/watch/exposition';

describe('watch/exposition: Prometheus text format', function () {
  it('HELP and TYPE lines before the samples, labels sorted, one line per sample', () => {
    const f: MetricFamily[] = [
      {
        name: 'bptt_anomaly_score',
        help: 'Score.',
        type: 'gauge',
        samples: [
          { labels: { job: 'node', instance: 'a:9100' }, value: 0.5 },
          { labels: { job: 'node', instance: 'b:9100' }, value: 2 },
        ],
      },
      { name: 'bptt_errors_total', help: 'Errors.', type: 'counter', samples: [{ labels: {}, value: 3 }] },
    ];
    expect(renderExposition(f)).to.equal(
      '# HELP bptt_anomaly_score Score.\n' +
        '# TYPE bptt_anomaly_score gauge\n' +
        'bptt_anomaly_score{instance="a:9100",job="node"} 0.5\n' +
        'bptt_anomaly_score{instance="b:9100",job="node"} 2\n' +
        '# HELP bptt_errors_total Errors.\n' +
        '# TYPE bptt_errors_total counter\n' +
        'bptt_errors_total 3\n',
    );
  });

  it('escapes label values (backslash, double quote, line feed) and HELP text (backslash, line feed)', () => {
    expect(escapeLabelValue('a\\b"c\nd')).to.equal('a\\\\b\\"c\\nd');
    expect(escapeHelp('x\\y\n"z"')).to.equal('x\\\\y\\n"z"');
    const text = renderExposition([
      {
        name: 'm',
        help: 'line one\nline two',
        type: 'gauge',
        samples: [{ labels: { bptt_query: 'rate(x{path="C:\\\\tmp"}[1m])' }, value: 1 }],
      },
    ]);
    expect(text.split('\n')[0]).to.equal('# HELP m line one\\nline two');
    expect(text.split('\n')[2]).to.equal('m{bptt_query="rate(x{path=\\"C:\\\\\\\\tmp\\"}[1m])"} 1');
    // Every line is one line: no raw line feed inside a value.
    expect(text.trimEnd().split('\n')).to.have.length(3);
  });

  it('values in Go float syntax', () => {
    expect([NaN, Infinity, -Infinity, 0, -1.5, 1e-7, 1e21].map(formatValue)).to.deep.equal([
      'NaN',
      '+Inf',
      '-Inf',
      '0',
      '-1.5',
      '1e-7',
      '1e+21',
    ]);
  });

  it('refuses invalid metric and label names, reserved labels and duplicate samples', () => {
    const one = (name: string, labels: Record<string, string>): MetricFamily[] => [
      { name, help: 'h', type: 'gauge', samples: [{ labels, value: 1 }] },
    ];
    expect(() => renderExposition(one('1bad', {}))).to.throw(RangeError, /invalid metric name/);
    expect(() => renderExposition(one('ok', { 'a-b': 'x' }))).to.throw(RangeError, /invalid label name/);
    expect(() => renderExposition(one('ok', { __name__: 'x' }))).to.throw(RangeError, /invalid label name/);
    const dup: MetricFamily = {
      name: 'm',
      help: 'h',
      type: 'gauge',
      samples: [
        { labels: { a: '1' }, value: 1 },
        { labels: { a: '1' }, value: 2 },
      ],
    };
    expect(() => renderExposition([dup])).to.throw(RangeError, /duplicate sample/);
    expect(() =>
      renderExposition([
        { ...dup, samples: [] },
        { ...dup, samples: [] },
      ]),
    ).to.throw(/given twice/);
  });
});
