/**
 * The "train in a Web Worker" recipe, page side: send the series to worker.js, restore the fitted detector it posts
 * back with Detector.fromJSON, and detect on the page's thread. `window.recipe` holds both outputs for the browser test
 * (spec/browser/recipe.spec.ts), which checks they are equal.
 */
import { Detector } from '../../lib/detect/detector.js';
import type { DetectorJSON } from '../../lib/detect/io.js';
import { getBackend } from '../../lib/backend.js';
import { makeSeries } from '../series.js';

interface Reply {
  json: DetectorJSON;
  scores: Float64Array;
  flags: Uint8Array;
  threshold: number;
  backend: string;
  error?: string;
}
interface Outcome {
  series: number[];
  json: DetectorJSON;
  worker: { scores: number[]; flags: number[]; threshold: number; backend: string };
  page: { scores: number[]; flags: number[]; threshold: number; backend: string };
}
declare global {
  interface Window {
    recipe: Outcome | { error: string } | null;
  }
}

window.recipe = null;
const out = document.getElementById('out');
const series = makeSeries('sine-spike', 300);
const worker = new Worker('worker.js');
worker.onmessage = (e: MessageEvent<Reply>): void => {
  const m = e.data;
  if (m.error !== undefined) {
    window.recipe = { error: m.error };
    return;
  }
  const detector = Detector.fromJSON(m.json); // the worker's detector, restored on the page's thread
  const r = detector.detect(series);
  window.recipe = {
    series,
    json: m.json,
    worker: { scores: Array.from(m.scores), flags: Array.from(m.flags), threshold: m.threshold, backend: m.backend },
    page: { scores: Array.from(r.scores), flags: Array.from(r.flags), threshold: r.threshold, backend: getBackend() },
  };
  if (out !== null) out.textContent = `worker backend ${m.backend}; flagged ${r.events.length} event(s)`;
  worker.terminate();
};
worker.onerror = (e: ErrorEvent): void => {
  window.recipe = { error: `worker error: ${e.message}` };
};
worker.postMessage({ series, options: { model: 'lstm-ae', window: 16, hidden: 6, epochs: 5, seed: 7 } });
