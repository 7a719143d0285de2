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
 * @example fromTfjs(artifacts).predict(x)   // the TensorFlow.js model's predictions, to float32 rounding
 */
export function fromTfjs(artifacts: TfjsArtifactsInput, options: FromTfjsOptions = {}): Sequential {
  return buildFromTfjs(artifacts, options, newSequential);
}

/** Reads a model.json and its weight files (weightsManifest paths, relative to it) into a Sequential. */
export function loadTfjsModel(modelJsonPath: string, options: FromTfjsOptions = {}): Promise<Sequential> {
  return readTfjsModel(modelJsonPath, options, newSequential);
}

export function loadTfjsModelSync(modelJsonPath: string, options: FromTfjsOptions = {}): Sequential {
  return readTfjsModelSync(modelJsonPath, options, newSequential);
}

function newSequential(options: NewModelOptions): Sequential {
  return new Sequential([], options);
}
