import { expect } from 'chai';
import { parseDuration, parseWindow, apiSeconds } from '../../../lib/watch/time';
import { ArgumentError } from '../../../lib/errors';

describe('watch/time: durations and windows', function () {
  it('Prometheus durations', () => {
    expect(parseDuration('15s', 'x')).to.equal(15_000);
    expect(parseDuration('7d', 'x')).to.equal(7 * 86_400_000);
    expect(parseDuration('1h30m', 'x')).to.equal(5_400_000);
    expect(parseDuration('500ms', 'x')).to.equal(500);
    expect(parseDuration('1m5s', 'x')).to.equal(65_000);
    for (const bad of ['', '15', 's', '1.5s', '-1s', '0s', '1 s', '1x']) {
      expect(() => parseDuration(bad, '--step'), bad)
        .to.throw(ArgumentError)
        .with.property('argument', '--step');
    }
  });

  it('exclusion windows START/END with a zone, start before end', () => {
    expect(parseWindow('2026-11-01T10:00Z/2026-11-01T14:00Z', 'w')).to.deep.equal([
      Date.UTC(2026, 10, 1, 10),
      Date.UTC(2026, 10, 1, 14),
    ]);
    expect(parseWindow('2026-11-01T10:00+01:00/2026-11-01T14:00+01:00', 'w')[0]).to.equal(Date.UTC(2026, 10, 1, 9));
    for (const bad of [
      '2026-11-01T10:00Z',
      '2026-11-01T14:00Z/2026-11-01T10:00Z',
      '2026-11-01T10:00Z/2026-11-01T10:00Z',
      '2026-11-01T10:00/2026-11-01T14:00',
      'yesterday/today',
      'a/b/c',
    ]) {
      expect(() => parseWindow(bad, '--exclude'), bad).to.throw(ArgumentError, /--exclude/);
    }
  });

  it('API seconds from epoch ms', () => {
    expect(apiSeconds(1_733_480_000_000)).to.equal('1733480000');
    expect(apiSeconds(1_733_480_000_500)).to.equal('1733480000.5');
  });
});
