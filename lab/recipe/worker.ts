/**
 * The "train in a Web Worker" recipe, worker side: fit a Detector off the page's thread and post back its JSON
 * (`detector.toJSON()`: plain data, structured-clone safe) with its own detect() output, for the page to compare.
 */
import { Detector } from '../../lib/detect/detector.js';
import type { DetectorOptions } from '../../lib/detect/types.js';
import { getBackend } from '../../lib/backend.js';

interface WorkerScope {
  onmessage: ((e: MessageEvent<{ series: number[]; options: DetectorOptions }>) => void) | null;
  postMessage(message: unknown): void;
}
const scope = self as unknown as WorkerScope;

scope.onmessage = (e): void => {
  try {
    const { series, options } = e.data;
    const detector = new Detector(options).fit(series);
    const r = detector.detect(series);
    scope.postMessage({
      json: detector.toJSON(),
      scores: r.scores,
      flags: r.flags,
      threshold: r.threshold,
      backend: getBackend(),
    });
  } catch (err) {
    scope.postMessage({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
  }
};
