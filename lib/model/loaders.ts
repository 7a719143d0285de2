/**
 * Loaders that return a new Sequential: bptt's JSON (modelFromJSON, loadModel) and TensorFlow.js layers artifacts
 * (fromTfjs, loadTfjsModel, loadTfjsModelSync). lib/io reads and checks the file and fills the empty model it is given a
 * way to make (CreateModel); this module supplies Sequential's constructor, so lib/io never imports Sequential.
 * Writers take the model and stay in lib/io (modelToJSON, saveModel, toTfjs, saveTfjsModel, loadTorchStateDict, …).
 */
import { buildFromTfjs, readTfjsModel, readTfjsModelSync } from '../io/tfjs.js';
import type { FromTfjsOptions, TfjsArtifactsInput } from '../io/tfjs.js';
import type { NewModelOptions } from '../io/model-view.js';
import { Sequential } from './sequential.js';

/** A bptt model from its JSON document (an object or its text); problems are ModelFileErrors naming `source`. */
export function modelFromJSON(input: unknown, source = 'fromJSON'): Sequential {
  return Sequential.fromJSON(input, source);
}

/** Reads a model written by saveModel / model.save. */
export function loadModel(path: string): Sequential {
  return Sequential.load(path);
}

/**
 * A Sequential from TensorFlow.js layers-format artifacts (lib/io/tfjs describes what is read and how).
 * Works anywhere (no file system): the artifacts are objects and an ArrayBuffer, as TensorFlow.js's `tf.io` hands them.
 *
 * @param artifacts - modelTopology, weightSpecs and weightData (what `model.save(tf.io.withSaveHandler(…))` receives).
 * @param options - See {@link FromTfjsOptions}.
 * @returns The model, built, with the TensorFlow.js model's weights: the same predictions, to float32 rounding.
 * @throws {@link ModelFileError} for a malformed topology, an unsupported layer or option, or weights that do not fit.
 * @example
 * ```ts
 * import { Sequential, lstm, dense, toTfjs, fromTfjs } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * const model = new Sequential([lstm({ units: 4, inputShape: [6, 2] }), dense({ units: 1 })], { seed: 5 }).build();
 * const artifacts = toTfjs(model); // what tf.loadLayersModel(tf.io.fromMemory(artifacts)) reads
 * const back = fromTfjs(artifacts);
 * const x = [[[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]]];
 * assert.deepEqual(back.predict(x).data, model.predict(x).data);
 * ```
 */
export function fromTfjs(artifacts: TfjsArtifactsInput, options: FromTfjsOptions = {}): Sequential {
  return buildFromTfjs(artifacts, options, newSequential);
}

/**
 * Reads a model.json and its weight files (weightsManifest paths, relative to it) into a Sequential. Node only.
 *
 * @param modelJsonPath - The model.json of a TensorFlow.js layers model (`model.save('file://dir')`).
 * @param options - See {@link FromTfjsOptions}.
 * @returns The model, built, with its weights.
 * @throws {@link ModelFileError} (the promise rejects) when a file cannot be read or its contents are invalid.
 * @example
 * ```ts
 * import { Sequential, gru, saveTfjsModel, loadTfjsModel } from 'bptt';
 * import assert from 'node:assert/strict';
 * import * as fs from 'node:fs';
 * import * as os from 'node:os';
 * import * as path from 'node:path';
 *
 * const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-tfjs-'));
 * const model = new Sequential([gru({ units: 3, resetAfter: false, inputShape: [4, 1] })], { seed: 2 }).build();
 * await saveTfjsModel(model, dir); // dir/model.json + dir/weights.bin, as TensorFlow.js writes them
 * const loaded = await loadTfjsModel(path.join(dir, 'model.json'));
 * assert.deepEqual(loaded.getWeights(), model.getWeights());
 * ```
 */
export function loadTfjsModel(modelJsonPath: string, options: FromTfjsOptions = {}): Promise<Sequential> {
  return readTfjsModel(modelJsonPath, options, newSequential);
}

/**
 * {@link loadTfjsModel}, synchronous. Node only.
 *
 * @param modelJsonPath - The model.json of a TensorFlow.js layers model.
 * @param options - See {@link FromTfjsOptions}.
 * @returns The model, built, with its weights.
 * @throws {@link ModelFileError} when a file cannot be read or its contents are invalid.
 */
export function loadTfjsModelSync(modelJsonPath: string, options: FromTfjsOptions = {}): Sequential {
  return readTfjsModelSync(modelJsonPath, options, newSequential);
}

function newSequential(options: NewModelOptions): Sequential {
  return new Sequential([], options);
}
