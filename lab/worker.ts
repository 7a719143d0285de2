/**
 * The lab's Web Worker: trains in chunks of steps (a macrotask each, so a 'stop' or a new 'train' gets in between),
 * posts a ProgressMessage after each chunk, then fits the Detector and posts its result. The page's thread never trains.
 */
import { Trainer, type PageMessage, type WorkerMessage } from './trainer.js';

/** The parts of a dedicated worker's global scope used here (the lab's tsconfig has the DOM library, not WebWorker). */
interface WorkerScope {
  onmessage: ((e: MessageEvent<PageMessage>) => void) | null;
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

/** Steps per chunk, and the chunks between two snapshots (each snapshot runs the views' forward and backward). */
const CHUNK_STEPS = 5;

let trainer: Trainer | null = null;
let runId = 0;
let stopRequested = false;

function post(message: WorkerMessage): void {
  if (message.type === 'progress') {
    scope.postMessage(message, [message.forecast.buffer]);
  } else scope.postMessage(message);
}

function fail(id: number, err: unknown): void {
  post({ type: 'error', id, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
}

function finish(t: Trainer): void {
  post({ type: 'done', id: t.request.id, step: t.step, stopped: stopRequested });
  try {
    const d = t.detect();
    if (d !== null && t.request.id === runId) post(d);
  } catch (err) {
    fail(t.request.id, err);
  }
}

function runChunk(t: Trainer): void {
  if (t !== trainer) return; // a newer run replaced this one
  try {
    const losses = t.chunk(CHUNK_STEPS);
    post(t.snapshot(losses));
    if (t.done || stopRequested) finish(t);
    else setTimeout(() => runChunk(t), 0);
  } catch (err) {
    fail(t.request.id, err);
  }
}

scope.onmessage = (e: MessageEvent<PageMessage>): void => {
  const msg = e.data;
  if (msg.type === 'train') {
    runId = msg.id;
    stopRequested = false;
    try {
      trainer = new Trainer(msg);
    } catch (err) {
      trainer = null;
      fail(msg.id, err);
      return;
    }
    const t = trainer;
    post(t.snapshot([]));
    setTimeout(() => runChunk(t), 0);
  } else if (msg.type === 'stop') {
    stopRequested = true;
  } else if (msg.type === 'inspect') {
    if (trainer === null || trainer.request.id !== msg.id) return;
    try {
      trainer.inspectAt = trainer.windowStart(msg.at);
      post(trainer.snapshot([]));
      const attention = trainer.attentionWindow(trainer.inspectAt);
      if (attention !== null) post({ type: 'attention', id: msg.id, attention });
    } catch (err) {
      fail(msg.id, err);
    }
  }
};
