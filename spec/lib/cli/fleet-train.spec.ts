/**
 * `bptt fleet train` and `bptt fleet trainer` (lib/cli/fleet-train.ts) against a real redis-server: options refused
 * before anything connects, a CSV fitted through the queue with progress and the stored detector equal to an
 * in-process fit, --json, scheduled refits on and off, and a trainer process stopped by SIGTERM.
 */
import { expect } from 'chai';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { fleetTrainCommand } from '../../../lib/cli/fleet-train';
import { UserError } from '../../../lib/cli/errors';
import type { Context } from '../../../lib/cli/context';
import { ArgumentError } from '../../../lib/errors';
import { Detector } from '../../../lib/detect/detector';
import { getDetector } from '../../../lib/fleet/store';
import { trainQueueName } from '../../../lib/fleet/training';
import { requireRedis, startRedis, type RedisServer } from '../../helpers/redis';

interface Captured extends Context {
  stdout: string[];
  stderr: string[];
}

function capture(json = false, quiet = false): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    out: (s) => stdout.push(s),
    err: (s) => stderr.push(s),
    errSink: { isTTY: false, columns: 80, write: () => true },
    quiet,
    json,
  };
}

async function failure(p: () => Promise<unknown>): Promise<Error> {
  try {
    await p();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

const MODEL = ['--model', 'lstm-ae', '--window', '8', '--hidden', '4', '--epochs', '3', '--seed', '3'];
const MODEL_OPTIONS = { model: 'lstm-ae', window: 8, hidden: 4, epochs: 3, seed: 3, workers: 1 } as const;

describe('bptt fleet train / trainer (lib/cli/fleet-train.ts)', function () {
  this.timeout(120000);

  describe('options are checked before anything connects', () => {
    // Port 1 has no server: a command that tried to connect would hang, not fail with these messages.
    const url = 'redis://127.0.0.1:1';
    const cases: Array<[string[], RegExp, new (...a: never[]) => Error]> = [
      [['--series', 's'], /^fleet train: --redis URL is required/, UserError],
      [['--redis', 'http://x', '--series', 's'], /^--redis: expected a redis:\/\/ or rediss:\/\/ URL/, UserError],
      [['--redis', url], /^fleet train: --series S is required/, UserError],
      [
        ['--redis', url, '--series', 's', '--points', '0'],
        /^--points: expected a positive integer, got "0"/,
        UserError,
      ],
      [['--redis', url, '--series', 's', '--points', '5', '--csv', 'x.csv'], /two sources of history/, UserError],
      [['--redis', url, '--series', 's', '--window', 'abc'], /^--window: expected a positive integer/, UserError],
      [
        ['--redis', url, '--series', 's', '--workers', 'auto'],
        /^enqueueFit\(options\.workers\): .*core count/,
        ArgumentError,
      ],
      [['--redis', url, '--series', 's', '--every', '5x'], /^--every: expected a duration/, UserError],
      [['--redis', url, '--series', 's', '--wait', '--every', '1h'], /^--every: --wait follows one job/, UserError],
      [['--redis', url, '--series', 's', '--columns', 'a'], /^--columns: only with --csv/, UserError],
      [['--redis', url, '--series', 's', '--bogus'], /^fleet train: unknown option --bogus/, UserError],
    ];
    for (const [argv, msg, type] of cases) {
      it(`train ${argv.join(' ')}`, async () => {
        const e = await failure(() => fleetTrainCommand(capture(), 'train', argv));
        expect(e).to.be.instanceOf(type);
        expect(e.message).to.match(msg);
      });
    }
    it('trainer --concurrency 0 and a positional argument', async () => {
      const e1 = await failure(() => fleetTrainCommand(capture(), 'trainer', ['--redis', url, '--concurrency', '0']));
      expect(e1.message).to.match(/^--concurrency: expected a positive integer, got "0"/);
      const e2 = await failure(() => fleetTrainCommand(capture(), 'trainer', ['--redis', url, 'extra']));
      expect(e2.message).to.match(/^fleet trainer: unexpected argument "extra"/);
    });
    it('--help prints the usage of each', async () => {
      const c = capture();
      expect(await fleetTrainCommand(c, 'train', ['--help'])).to.equal(0);
      expect(await fleetTrainCommand(c, 'trainer', ['-h'])).to.equal(0);
      expect(c.stdout.join('')).to.match(/^Usage: bptt fleet train --redis URL --series S/);
      expect(c.stdout.join('')).to.match(/Usage: bptt fleet trainer --redis URL/);
    });
  });

  describe('with a real redis-server', () => {
    let server: RedisServer | null = null;
    let redis: Redis;
    let dir: string;

    before(async function () {
      if (!requireRedis(this)) return;
      server = await startRedis();
      redis = await server.client();
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-fleet-train-'));
    });

    after(async () => {
      if (server === null) return;
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('train --csv --wait: progress per epoch, version 1 stored, equal to an in-process fit; --json', async () => {
      const values = Array.from({ length: 150 }, (_, i) => Math.sin(i / 4) + 0.1 * Math.cos(i / 9));
      const file = path.join(dir, 'cpu.csv');
      fs.writeFileSync(file, `t,cpu\n${values.map((x, i) => `${i},${x}`).join('\n')}\n`);
      const stop = new AbortController();
      const trainerCtx = capture();
      const trainer = fleetTrainCommand(
        trainerCtx,
        'trainer',
        ['--redis', server!.url, '--prefix', 'cli1'],
        stop.signal,
      );
      try {
        const c = capture();
        const args = ['--redis', server!.url, '--prefix', 'cli1', '--series', 'cpu', '--csv', file, ...MODEL];
        expect(await fleetTrainCommand(c, 'train', [...args, '--wait'])).to.equal(0);
        expect(c.stdout.join('')).to.match(
          /^cpu: version 1 stored \(lstm-ae, 150 points, 3 epochs, loss [\d.e-]+\)\n$/,
        );
        const epochs = c.stderr.join('').match(/epoch \d\/3 loss/g);
        expect(epochs).to.deep.equal(['epoch 1/3 loss', 'epoch 2/3 loss', 'epoch 3/3 loss']);
        const stored = await getDetector(redis, 'cli1', 'cpu');
        const local = new Detector(MODEL_OPTIONS).fit(values.map((x) => Number(String(x))));
        expect(JSON.stringify(stored?.detector.toJSON())).to.equal(JSON.stringify(local.toJSON()));

        // the same request again: the existing job; and --json prints it as an object
        const j = capture(true);
        expect(await fleetTrainCommand(j, 'train', args)).to.equal(0);
        const doc = JSON.parse(j.stdout.join('')) as { jobId: string; added: boolean; state: string };
        expect(doc).to.include({ added: false, state: 'completed' });
        expect(doc.jobId).to.match(/^fit-cpu-[0-9a-f]{16}$/);
      } finally {
        stop.abort();
      }
      expect(await trainer).to.equal(0);
      expect(trainerCtx.stderr.join('')).to.match(/cpu version 1 stored \(lstm-ae, 150 points, 3 epochs\)/);
      expect(trainerCtx.stderr.join('')).to.match(/stop: putting the fits under way back in the queue and stopping\n/);
    });

    it('train --every schedules refits of the stream, --every off removes them', async () => {
      const c = capture();
      const base = ['--redis', server!.url, '--prefix', 'cli2', '--series', 'mem', ...MODEL];
      expect(await fleetTrainCommand(c, 'train', [...base, '--every', '1h', '--points', '500'])).to.equal(0);
      expect(c.stdout.join('')).to.match(/^refit of mem every 1h: scheduler refit-mem-[0-9a-f]{16}\n$/);
      const queue = new Queue(trainQueueName('cli2'), { connection: redis });
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.map((s) => [s.name, s.every])).to.deep.equal([['refit', 3600000]]);
      const off = capture();
      expect(await fleetTrainCommand(off, 'train', [...base, '--every', 'off'])).to.equal(0);
      expect(off.stdout.join('')).to.equal('refits of mem stopped\n');
      expect(await queue.getJobSchedulers()).to.deep.equal([]);
      await queue.close();
    });

    it('a trainer process exits 0 on SIGTERM, after saying so', async () => {
      const cli = path.join(__dirname, '../../../lib/cli/fleet-train.js');
      const install = path.join(__dirname, '../../../lib/node/install.js');
      const code =
        `require(${JSON.stringify(install)});` +
        `const { fleetTrainCommand } = require(${JSON.stringify(cli)});` +
        `const ctx = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s), ` +
        `errSink: process.stderr, quiet: false };` +
        `fleetTrainCommand(ctx, 'trainer', ['--redis', ${JSON.stringify(server!.url)}, '--prefix', 'cli3'])` +
        `.then((c) => { process.exitCode = c; });`;
      const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      let sent = false;
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (!sent && err.includes('trainer started')) {
          sent = true;
          child.kill('SIGTERM');
        }
      });
      const exit = await new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      expect(exit).to.equal(0);
      expect(err).to.match(/trainer started on redis:\/\/127\.0\.0\.1:\d+ \(queue cli3-train, concurrency 1\)/);
      expect(err).to.match(/SIGTERM: putting the fits under way back in the queue and stopping\n.*stopped\n$/);
    });
  });
});
