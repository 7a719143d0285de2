/**
 * Runs fuzz cases in a worker thread and keeps every case bounded: if a case gives no answer within `caseTimeoutMs`
 * the worker is terminated (which stops even a synchronous endless loop), the case is reported as a hang, and a new
 * worker goes on with the next case. A worker that dies (out of memory: its heap is limited to `heapMb`) is reported
 * as a crash of the case it was running. Used by spec/fuzz/fuzz.spec.ts (a short seeded run in `npm test`) and by
 * scripts/fuzz.js (`npm run fuzz`, a long run).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { Outcome, Verdict } from './runner';
import type { Job, WorkerInput, WorkerMessage } from './worker';

export interface FuzzOptions {
  seed: string;
  /** Targets and how many cases each (case indices from..from+cases-1): one count for all, or one per target. */
  targets: readonly string[];
  cases: number | Readonly<Record<string, number>>;
  from?: number;
  /** Bound on one case, in wall-clock ms (generous: cases take milliseconds). Default 30 s. */
  caseTimeoutMs?: number;
  /** Heap limit of the worker. Default 1024 MB. */
  heapMb?: number;
  /** Called after every case. */
  onOutcome?: (o: Outcome) => void;
}

export interface TargetReport {
  target: string;
  cases: number;
  counts: Partial<Record<Verdict, number>>;
  /** Every case that was not 'ok' or 'refused'. */
  findings: Outcome[];
  /** Summed case time (ms), for the report only. */
  ms: number;
}

export async function runFuzz(o: FuzzOptions): Promise<TargetReport[]> {
  const from = o.from ?? 0;
  const reports = new Map<string, TargetReport>();
  for (const t of o.targets) reports.set(t, { target: t, cases: 0, counts: {}, findings: [], ms: 0 });
  const record = (out: Outcome): void => {
    const r = reports.get(out.target) as TargetReport;
    r.cases++;
    r.counts[out.verdict] = (r.counts[out.verdict] ?? 0) + 1;
    r.ms += out.ms;
    if (out.verdict !== 'ok' && out.verdict !== 'refused') r.findings.push(out);
    o.onOutcome?.(out);
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-fuzz-'));
  try {
    const count = (t: string): number => (typeof o.cases === 'number' ? o.cases : (o.cases[t] ?? 0));
    let jobs: Job[] = o.targets.map((t) => ({ target: t, from, to: from + count(t) })).filter((j) => j.to > j.from);
    while (jobs.length > 0) {
      const stopped = await runWorker({ seed: o.seed, jobs, dir }, o.caseTimeoutMs ?? 30_000, o.heapMb ?? 1024, record);
      if (stopped === null) break;
      // Go on after the case that hung or crashed.
      const k = jobs.findIndex((j) => j.target === stopped.target);
      jobs = [{ target: stopped.target, from: stopped.index + 1, to: jobs[k].to }, ...jobs.slice(k + 1)].filter(
        (j) => j.from < j.to,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return [...reports.values()];
}

/** Runs one worker over `input.jobs`; resolves null when it finished them, or the case where it was stopped. */
function runWorker(
  input: WorkerInput,
  timeoutMs: number,
  heapMb: number,
  record: (o: Outcome) => void,
): Promise<{ target: string; index: number } | null> {
  return new Promise((resolve) => {
    const w = new Worker(path.join(__dirname, 'worker.js'), {
      workerData: input,
      resourceLimits: { maxOldGenerationSizeMb: heapMb },
    });
    let current: { target: string; index: number; what: string; t0: number } | null = null;
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = (v: { target: string; index: number } | null): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      resolve(v);
    };
    const fail = (verdict: Verdict, detail: string): void => {
      if (done) return;
      if (current === null) {
        // Died outside a case (building the seeds): that is a harness failure, reported on the first pending job.
        const j = input.jobs[0];
        record({
          target: j.target,
          index: j.from,
          verdict,
          detail: `outside any case: ${detail}`,
          what: '(worker start)',
          ms: 0,
        });
        finish({ target: j.target, index: j.from });
        return;
      }
      record({
        target: current.target,
        index: current.index,
        verdict,
        detail,
        what: current.what,
        ms: Date.now() - current.t0,
      });
      finish({ target: current.target, index: current.index });
    };
    const arm = (): void => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        fail('hang', `no answer within ${timeoutMs} ms; the worker was terminated`);
        void w.terminate();
      }, timeoutMs);
    };
    arm();
    w.on('message', (m: WorkerMessage) => {
      if (m.type === 'start') current = { target: m.target, index: m.index, what: m.what, t0: Date.now() };
      else if (m.type === 'done') {
        record(m.outcome);
        current = null;
      } else if (m.type === 'end') {
        finish(null);
        void w.terminate();
        return;
      }
      arm();
    });
    w.on('error', (e) => fail('crash', `the worker died: ${e.name}: ${e.message}`));
    w.on('exit', (code) => fail('crash', `the worker exited with code ${code}`));
  });
}
