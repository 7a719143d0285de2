/**
 * `bptt watch` and `bptt feedback` on the command line: mistakes in the options are exit 1 with a message naming the
 * option (nothing starts); feedback finds a series by id or labels, takes the alarm nearest --at, and writes the mark
 * into the series' state file (the running watcher reads it back: see the e2e spec).
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../../lib/cli/main';
import type { Context } from '../../../lib/cli/context';
import { watchConfig } from '../../../lib/cli/watch';
import { Detector } from '../../../lib/detect/detector';
import { readState, statePath, writeState } from '../../../lib/watch/state';
import { seriesId } from '../../../lib/watch/labels';
import { runCli, expectUserError } from '../../helpers/repo';

function run(argv: string[]): { code: number; out: string; err: string } {
  let out = '',
    err = '';
  const ctx: Context = {
    out: (s) => (out += s),
    err: (s) => (err += s),
    errSink: { write: () => undefined },
    quiet: false,
  };
  const code = main(argv, ctx);
  return { code, out, err };
}

const T0 = Date.UTC(2026, 11, 1, 8);

describe('bptt watch / bptt feedback (command line)', function () {
  this.timeout(60_000);
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-watch-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('watch: option mistakes are exit 1 naming the option', () => {
    const base = ['watch', '--prometheus', 'http://127.0.0.1:9', '--query', 'up'];
    const cases: Array<[string[], RegExp]> = [
      [['watch', '--query', 'up'], /--prometheus URL is required/],
      [['watch', '--prometheus', 'http://x:9090'], /at least one --query/],
      [['watch', '--prometheus', 'ftp://x', '--query', 'up'], /--prometheus: expected an http\(s\) URL/],
      [[...base, '--step', '15'], /--step: expected a duration/],
      [[...base, '--history', '7days'], /--history: expected a duration/],
      [[...base, '--listen', '9464'], /--listen: expected HOST:PORT/],
      [[...base, '--exclude', '2026-11-01T14:00Z/2026-11-01T10:00Z'], /--exclude \(number 1\).*start before it ends/],
      [
        [...base, '--exclude', '2026-11-01T10:00/2026-11-01T14:00'],
        /--exclude \(number 1\) start: expected an ISO 8601/,
      ],
      [[...base, '--max-points', '20000'], /--max-points: at most 11000/],
      [[...base, '--model', 'nope'], /--model: expected auto or one of/],
      [[...base, '--query', 'up'], /the same query is given twice/],
      [[...base, '--offline'], /--offline: bptt watch scores each point as it arrives/],
      [[...base, '--bogus'], /watch: Unknown option '--bogus'/],
    ];
    for (const [argv, re] of cases) {
      const r = run(argv);
      expect(r.code, argv.join(' ')).to.equal(1);
      expect(r.err, argv.join(' ')).to.match(re);
    }
    const ok = watchConfig(
      [
        ...base.slice(1),
        '--query',
        'rate(x[1m])',
        '--step',
        '30s',
        '--exclude',
        '2026-11-01T10:00Z/2026-11-01T14:00Z',
        '--listen',
        '[::1]:0',
      ],
      () => undefined,
    );
    expect(ok).to.deep.include({
      queries: ['up', 'rate(x[1m])'],
      stepMs: 30_000,
      historyMs: 7 * 86_400_000,
      listen: { host: '::1', port: 0 },
      exclude: [[Date.UTC(2026, 10, 1, 10), Date.UTC(2026, 10, 1, 14)]],
      stateDir: null,
      maxPoints: 11_000,
    });
    expect(ok?.detector.model).to.equal('gru-online');
    expect(run(['watch', '--help']).out).to.match(/^Usage: bptt watch/);
  });

  it('feedback: marks the alarm nearest --at, by labels or by id; the file keeps it', () => {
    const x = Array.from({ length: 60 }, (_, i) => 3 + Math.sin(i / 4));
    const d = new Detector({ model: 'zscore', window: 5, threshold: 'fixed:3' }).fit(x);
    const query = 'rate(x[1m])';
    const write = (labels: Record<string, string>): string => {
      const id = seriesId(query, labels);
      writeState(
        dir,
        {
          id,
          query,
          labels,
          stepMs: 15_000,
          lastTimestamp: T0,
          lastFit: T0,
          pointsScored: 10,
          recent: [],
          alarms: [
            { at: T0 - 3_600_000, score: 9 },
            { at: T0 - 60_000, score: 4.5 },
          ],
        },
        d.toJSON(),
      );
      return id;
    };
    const a = write({ instance: 'a:9100', job: 'node' });
    const b = write({ instance: 'b:9100', job: 'node' });
    const at = new Date(T0 - 45_000).toISOString();
    const r = run(['feedback', '--state', dir, '--series', '{instance="a:9100"}', '--at', at, '--not-anomaly']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.match(/score 4\.5\) is marked not an anomaly; scores up to 4\.5 no longer flag/);
    expect(readState(statePath(dir, a)).detector.notAnomalies).to.deep.equal([{ at: T0 - 60_000, score: 4.5 }]);
    expect(readState(statePath(dir, b)).detector.notAnomalies).to.deep.equal([]);
    // By id, with the level given directly.
    const r2 = run(['feedback', '--state', dir, '--series', b, '--at', at, '--not-anomaly', '--score', '6']);
    expect(r2.code, r2.err).to.equal(0);
    expect(readState(statePath(dir, b)).detector.feedbackLevel).to.equal(6);
    const cases: Array<[string[], RegExp]> = [
      [['--series', '{job="node"}', '--at', at, '--not-anomaly'], /matches 2 series; name one/],
      [['--series', '{job="db"}', '--at', at, '--not-anomaly'], /no watched series .* matches/],
      [['--series', '{instance="a:9100"}', '--at', '2026-01-01T00:00Z', '--not-anomaly'], /no alarm within 300 s/],
      [['--series', '{instance="a:9100"}', '--at', at], /--not-anomaly is required/],
      [['--series', '{instance="a:9100"}', '--at', 'noon', '--not-anomaly'], /--at: expected an ISO 8601 time/],
      [['--series', 'instance=a', '--at', at, '--not-anomaly'], /--series: expected a label selector/],
    ];
    for (const [args, re] of cases) {
      const c = run(['feedback', '--state', dir, ...args]);
      expect(c.code, args.join(' ')).to.equal(1);
      expect(c.err, args.join(' ')).to.match(re);
    }
  });

  it('the built program lists both commands and refuses a watch without a query (spawned)', () => {
    const help = runCli(['--help']);
    expect(help.stdout)
      .to.match(/\n {2}watch {2,}/)
      .and.to.match(/\n {2}feedback {2,}/);
    expectUserError(runCli(['watch', '--prometheus', 'http://127.0.0.1:9']), /at least one --query/);
  });
});
