/**
 * TensorFlow.js layers format in and out: the artifacts `model.save(tf.io.withSaveHandler(...))` produces, the
 * `model.json` + `weights.bin` pair `tf.io` / tfjs-node and `tensorflowjs_converter` write, and artifacts that
 * `tf.loadLayersModel(tf.io.fromMemory(...))` accepts. TensorFlow.js is never imported here.
 *
 * Files in tfjs/ (one topic each): types.ts (the artifact types and options), topology.ts (model topology ↔ bptt layers),
 * weights.ts (weightSpecs and bytes ↔ parameters), artifacts.ts (artifacts ↔ a model: buildFromTfjs, toTfjs),
 * files.ts (model.json and weights.bin on disk, Node only). The loaders that return a Sequential (fromTfjs,
 * loadTfjsModel, loadTfjsModelSync) are in lib/model/loaders.ts: lib/io never imports Sequential.
 *
 * @example
 * ```text
 * let artifacts; await tfModel.save(tf.io.withSaveHandler(async (a) => { artifacts = a; return { modelArtifactsInfo: … }; }));
 * const model = fromTfjs(artifacts);                       // Sequential, same predictions (≤ 1e-5)
 * const back = await tf.loadLayersModel(tf.io.fromMemory(toTfjs(model)));
 * ```
 */
export type {
  TfjsWeightSpec,
  TfjsArtifactsInput,
  TfjsArtifacts,
  FromTfjsOptions,
  ToTfjsOptions,
} from './tfjs/types.js';
export { GENERATED_BY } from './tfjs/types.js';
export { buildFromTfjs, toTfjs } from './tfjs/artifacts.js';
export { readTfjsModel, readTfjsModelSync, saveTfjsModel, saveTfjsModelSync } from './tfjs/files.js';
