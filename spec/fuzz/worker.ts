/**
 * The fuzz worker thread: installs the Guard before anything else is loaded (so modules capture the bounded
 * constructors), builds the targets' seeds, runs its jobs in order and posts each case's start and outcome to the
 * harness, which keeps the time bound. Never runs in the mocha process itself.
 */
import { parentPort, workerData } from 'worker_threads';
import * as fs from 'fs';
import * as path from 'path';
import { Guard } from './guard';

export interface Job {
  target: string;
  from: number;
  to: number;
}
export interface WorkerInput {
  seed: string;
  jobs: Job[];
  dir: string;
}
export type WorkerMessage =
  | { type: 'start'; target: string; index: number; what: string }
  | { type: 'done'; outcome: import('./runner').Outcome }
  | { type: 'ready'; target: string }
  | { type: 'end' };

const guard = new Guard();
guard.install();
// Loaded after install, so the code under test sees the bounded constructors.

const { targetByName } = require('./targets') as typeof import('./targets');

const { runCase } = require('./runner') as typeof import('./runner');

async function main(): Promise<void> {
  const input = workerData as WorkerInput;
  const port = parentPort;
  if (port === null) throw new Error('fuzz worker: no parent port');
  const post = (m: WorkerMessage): void => port.postMessage(m);
  for (const job of input.jobs) {
    const t = targetByName(job.target);
    const dir = path.join(input.dir, job.target);
    fs.mkdirSync(dir, { recursive: true });
    t.init(dir);
    post({ type: 'ready', target: job.target });
    for (let i = job.from; i < job.to; i++) {
      const outcome = await runCase(t, input.seed, i, dir, guard, (what) =>
        post({ type: 'start', target: job.target, index: i, what }),
      );
      post({ type: 'done', outcome });
    }
  }
  post({ type: 'end' });
}

main().catch((e: unknown) => {
  // A failure of the harness itself (seed building, ...): let the worker die with it; the harness reports a crash.
  throw e;
});
