/**
 * `bptt fleet` without a Redis server: every option mistake is exit 1 before anything connects, naming the flag
 * (and one JSON line under --json); an unreachable Redis is a clear error naming --redis; the producer's CSV reader
 * names the file, line and column; the synthetic fleet is the same for the same seed; /metrics families match the
 * worker's stats. The end-to-end behaviour with redis-server is spec/fleet-e2e.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCli, expectUserError } from '../../helpers/repo';
import { main } from '../../../lib/cli/main';
import type { Context } from '../../../lib/cli/context';
import { parseBytes, csvPoint, csvPoints, statusText } from '../../../lib/cli/fleet';
import { syntheticFleet, syntheticName } from '../../../lib/cli/fleet-synthetic';
import { workerFamilies } from '../../../lib/cli/fleet-metrics';
import { renderExposition } from '../../../lib/watch/exposition';
import { CsvError, UserError } from '../../../lib/cli/errors';
import type { FleetStatus, FleetWorkerStats } from '../../../lib/fleet';

const R = ['--redis', 'redis://127.0.0.1:1'];

describe('bptt fleet (command line, no Redis)', function () {
  this.timeout(60_000);

  it('bptt --help lists fleet; bptt fleet --help lists its subcommands', () => {
    expect(runCli(['--help']).stdout).to.match(/^ {2}fleet {4,}/m);
    const r = runCli(['fleet', '--help']);
    expect(r.code).to.equal(0);
    for (const sub of ['worker', 'status', 'produce', 'template', 'outputs', 'train', 'trainer'])
      expect(r.stdout).to.match(new RegExp(`^ {2}${sub} `, 'm'));
    expect(runCli(['fleet', 'worker', '--help']).stdout).to.match(/--memory-budget SIZE/);
  });

  it('bptt fleet train and trainer reach lib/cli/fleet-train.ts: their help, and their option mistakes as exit 1', () => {
    const train = runCli(['fleet', 'train', '--help']);
    expect(train.code, train.stderr).to.equal(0);
    expect(train.stdout).to.match(/--series/);
    const trainer = runCli(['fleet', 'trainer', '--help']);
    expect(trainer.code, trainer.stderr).to.equal(0);
    expect(trainer.stdout).to.match(/--concurrency/);
    const bad = runCli(['fleet', 'trainer', ...R, '--concurrency', '0']);
    expect(bad.code, bad.stderr).to.equal(1);
    expect(bad.stderr).to.match(/--concurrency/);
  });

  it('option mistakes: exit 1 naming the flag, at once (before connecting: main() returns it)', () => {
    // In process: main() returns 1 synchronously; a check that ran after connecting would return 0 here.
    const run = (argv: string[], json = false): { code: number; stdout: string; stderr: string } => {
      let stdout = '',
        stderr = '';
      const ctx: Context = {
        out: (t) => (stdout += t),
        err: (t) => (stderr += t),
        errSink: { isTTY: false, columns: 80, write: () => true },
        quiet: false,
        json,
      };
      return { code: main(argv, ctx), stdout, stderr };
    };
    expectUserError(run(['fleet', 'nope']), /unknown subcommand "nope"; the subcommands are worker, status/);
    expectUserError(run(['fleet', 'worker']), /--redis URL is required/);
    expectUserError(
      run(['fleet', 'worker', '--redis', 'http://x']),
      /--redis: expected a redis:\/\/ or rediss:\/\/ URL/,
    );
    expectUserError(run(['fleet', 'worker', ...R, '--batch', '0']), /--batch: expected a positive integer, got "0"/);
    expectUserError(run(['fleet', 'worker', ...R, '--lease-ms', '50']), /--lease-ms: expected at least 100/);
    expectUserError(run(['fleet', 'worker', ...R, '--memory-budget', '12XB']), /--memory-budget: expected a size/);
    expectUserError(run(['fleet', 'worker', ...R, '--metrics-port', '70000']), /--metrics-port: expected 0 to 65535/);
    expectUserError(run(['fleet', 'worker', ...R, '--id', 'a b']), /--id: expected letters/);
    expectUserError(run(['fleet', 'worker', ...R, '--template', 'a b']), /--template: expected letters/);
    expectUserError(run(['fleet', 'worker', ...R, '--prefix', 'a b']), /--prefix: expected/);
    expectUserError(run(['fleet', 'worker', ...R, '--bogus']), /unknown option --bogus/);
    expectUserError(run(['fleet', 'worker', ...R, '--partitions', '5000']), /--partitions: expected at most 4096/);
    expectUserError(run(['fleet', 'produce', ...R]), /missing the CSV file/);
    expectUserError(run(['fleet', 'produce', ...R, '--synthetic', '--points', '5']), /--synthetic needs --series N/);
    expectUserError(run(['fleet', 'produce', ...R, 'x.csv', '--series', '5']), /--series: only with --synthetic/);
    expectUserError(run(['fleet', 'template', 'get', 'z', ...R]), /expected put NAME --model detector.json/);
    expectUserError(run(['fleet', 'template', 'put', 'z', ...R]), /--model detector.json is required/);
    expectUserError(run(['fleet', 'outputs', ...R]), /--series S is required/);
    const j = run(['fleet', 'worker', ...R, '--batch', 'x', '--json'], true);
    expect(j.code).to.equal(1);
    expect(JSON.parse(j.stderr)).to.deep.include({
      error: {
        type: 'UserError',
        message: '--batch: expected a positive integer, got "x"',
        argument: '--batch',
        expected: 'a positive integer',
        actual: '"x"',
      },
    });
  });

  it('an unreachable Redis: exit 1 naming --redis (no hang, no stack)', () => {
    expectUserError(
      runCli(['fleet', 'status', ...R]),
      /--redis: cannot reach redis:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED/,
    );
    const j = runCli(['fleet', 'outputs', '--series', 's', ...R, '--json']);
    expect(j.code).to.equal(1);
    expect((JSON.parse(j.stderr) as { error: { argument: string } }).error.argument).to.equal('--redis');
  });

  it('template put reads the detector file first: a missing one is exit 1 naming it', () => {
    expectUserError(runCli(['fleet', 'template', 'put', 'z', '--model', 'no-such.json', ...R]), /no-such\.json/);
  });

  it('parseBytes: sizes in powers of 1024, anything else an error naming the flag', () => {
    expect(parseBytes('256MB', '--m')).to.equal(256 * 2 ** 20);
    expect(parseBytes('1GB', '--m')).to.equal(2 ** 30);
    expect(parseBytes('1.5 KiB', '--m')).to.equal(1536);
    expect(parseBytes('4096', '--m')).to.equal(4096);
    for (const bad of ['', '0', '-1MB', '12XB', 'MB', '1e3'])
      expect(() => parseBytes(bad, '--m'), bad).to.throw(UserError, /^--m: expected a size/);
  });

  it('the producer CSV: a header, epoch ms or ISO times, several values; errors name file, line and column', async () => {
    expect(csvPoint('f', 1, 'series,timestamp,value', -1)).to.equal('header');
    expect(csvPoint('f', 2, 'cpu,1700000000000,0.5,2', -1)).to.deep.equal({
      series: 'cpu',
      ts: 1700000000000,
      values: [0.5, 2],
    });
    expect(csvPoint('f', 2, 'cpu,2026-01-01T00:00:10Z,1', -1)).to.deep.equal({
      series: 'cpu',
      ts: Date.UTC(2026, 0, 1, 0, 0, 10),
      values: [1],
    });
    expect(csvPoint('f', 3, '  ', 1)).to.equal(null);
    const err = (text: string, line = 3, width = -1): CsvError => {
      try {
        csvPoint('data.csv', line, text, width);
      } catch (e) {
        expect(e).to.be.instanceOf(CsvError);
        return e as CsvError;
      }
      throw new Error(`no error for ${text}`);
    };
    expect(err('cpu,5').message).to.match(/^data\.csv line 3: expected series,timestamp,value/);
    expect(err('cpu,noon,1').message).to.equal(
      'data.csv line 3, column 2 ("timestamp"): "noon" is not a timestamp (epoch ms or ISO 8601)',
    );
    expect(err('cpu,5,abc').column).to.equal(3);
    expect(err('cpu,5,NaN').message).to.match(/column 3 \("value 1"\): "NaN" is not a finite number/);
    expect(err(',5,1').message).to.match(/column 1 \("series"\): expected a series name/);
    expect(err('cpu,5,1,2', 4, 1).message).to.match(/line 4: expected 1 value\(s\) as on the lines before, got 2/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-fleet-cli-'));
    try {
      const file = path.join(dir, 'p.csv');
      fs.writeFileSync(file, 'series,timestamp,value\r\na,1,1\n\nb,2,2');
      const got = [];
      for await (const p of csvPoints(file)) got.push(p);
      expect(got).to.deep.equal([
        { series: 'a', ts: 1, values: [1] },
        { series: 'b', ts: 2, values: [2] },
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the synthetic fleet: same seed, same numbers; another seed, others; spikes after the first tenth', () => {
    const a = syntheticFleet(5, 800, 7),
      b = syntheticFleet(5, 800, 7),
      c = syntheticFleet(5, 800, 8);
    expect(a.names).to.deep.equal(['s000000', 's000001', 's000002', 's000003', 's000004']);
    expect(syntheticName(42)).to.equal('s000042');
    a.values.forEach((v, j) => expect(Array.from(v)).to.deep.equal(Array.from(b.values[j])));
    expect(Array.from(a.values[0])).not.to.deep.equal(Array.from(c.values[0]));
    const spikes = a.anomalies.flat();
    expect(spikes.length).to.be.greaterThan(0);
    for (const i of spikes) expect(i).to.be.at.least(80);
    // Six decimals: the text of a value reads back as the same double.
    for (const v of a.values[1]) expect(Number(String(v))).to.equal(v);
    // produce --synthetic --csv prints the same points.
    const r = runCli(['fleet', 'produce', '--synthetic', '--series', '2', '--points', '3', '--seed', '7', '--csv']);
    expect(r.code, r.stderr).to.equal(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows).to.have.length(7);
    expect(rows[2]).to.equal(`s000001,2026-01-01T00:00:00.000Z,${syntheticFleet(2, 3, 7).values[1][0]}`);
  });

  it('the /metrics families follow the worker stats, and status text lists partitions and workers', () => {
    const stats: FleetWorkerStats = {
      id: 'w1',
      points: 1234,
      deadLetters: 3,
      batches: 17,
      batchSize: 250,
      pointsPerSecond: 99.5,
      partitions: [2, 5],
      lag: { '2': 0, '5': 7 },
      residentSeries: 40,
      residentBytes: 123456,
      memoryBudget: 2 ** 28,
      refused: {},
      versionSwitches: 0,
      restoreFailures: 0,
      errors: 1,
      lastError: '',
      startedAt: 0,
      at: 0,
    };
    const text = renderExposition(workerFamilies(stats));
    expect(text).to.include(
      '# TYPE bptt_fleet_points_processed_total counter\nbptt_fleet_points_processed_total{worker="w1"} 1234\n',
    );
    expect(text).to.include('bptt_fleet_lag{partition="5",worker="w1"} 7\n');
    expect(text).to.include('bptt_fleet_partitions_owned{worker="w1"} 2\n');
    expect(text).to.include('bptt_fleet_dead_letters_total{worker="w1"} 3\n');
    expect(text).to.include('bptt_fleet_resident_bytes{worker="w1"} 123456\n');
    expect(text).to.include('bptt_fleet_batch_size{worker="w1"} 250\n');
    const status: FleetStatus = {
      prefix: 'p',
      partitions: 2,
      partitionStatus: [
        {
          partition: 0,
          owner: 'w1',
          token: 1,
          lastProcessedId: '1-0',
          processed: 10,
          added: 12,
          length: 12,
          lag: 2,
          pending: 0,
          series: 3,
          outputs: 10,
        },
        {
          partition: 1,
          owner: null,
          token: 0,
          lastProcessedId: '0-0',
          processed: 0,
          added: 0,
          length: 0,
          lag: 0,
          pending: 0,
          series: 0,
          outputs: 0,
        },
      ],
      series: 3,
      lag: 2,
      deadLetters: 1,
      workers: [stats],
    };
    const s = statusText(status);
    expect(s).to.match(/^fleet p: 2 partitions, 3 series, lag 2, dead letters 1$/m);
    expect(s).to.match(/^0 +w1 +10 +2 +3$/m);
    expect(s).to.match(/^1 +- +0 +0 +0$/m);
    expect(s).to.match(/^w1 +2 +40 +99\.5 +0\.1 MB +1234$/m);
  });
});
