/**
 * TensorFlow.js model files on disk (Node only): model.json and its weight shards read into the model `create` makes
 * (loadTfjsModel in lib/model/loaders.ts is readTfjsModel with Sequential's), and a model written as dir/weights.bin
 * and dir/model.json.
 *
 * On disk: `saveTfjsModel(model, dir)` writes dir/weights.bin, then dir/model.json
 *   { modelTopology, format, generatedBy, convertedBy, weightsManifest: [{ paths: ['./weights.bin'], weights }], trainingConfig? }
 * each atomically (lib/node/atomic.ts, through the host: lib/host.ts), weights first, so model.json never names bytes that are not there yet. (A crash
 * between the two renames leaves the new weights beside the old model.json; loading then fails on the byte count unless
 * both models have the same architecture.) `loadTfjsModel(path)` reads model.json and every weightsManifest group's
 * shards (paths relative to model.json, never outside its directory); each group's bytes must match its weights.
 */
import { fileHost, type Host, type HostPath } from '../../host.js';
import type { CreateModel, ModelSource, ModelTarget } from '../model-view.js';
import { show } from '../show.js';
import { buildFromTfjs, toTfjs } from './artifacts.js';
import {
  type Cfg,
  type FromTfjsOptions,
  isObject,
  type TfjsArtifacts,
  type TfjsArtifactsInput,
  type ToTfjsOptions,
} from './types.js';
import { checkSpec, specBytes } from './weights.js';
import { ModelFileError } from '../../errors.js';
import { withSource } from '../json.js';

// ---------------------------------------------------------------------------------------------------------------------
// Reading

interface Manifest {
  paths: string[];
  weights: unknown[];
}

function readModelJson(text: string, file: string): { artifacts: Cfg; groups: Manifest[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelFileError(`loadTfjsModel(${file})`, `not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json) || !isObject(json['modelTopology']))
    throw new ModelFileError(`loadTfjsModel(${file})`, `expected a model.json with modelTopology`);
  const m = json['weightsManifest'] ?? [];
  if (
    !Array.isArray(m) ||
    !m.every(
      (g) =>
        isObject(g) &&
        Array.isArray(g['paths']) &&
        Array.isArray(g['weights']) &&
        (g['paths'] as unknown[]).every((p) => typeof p === 'string'),
    )
  ) {
    throw new ModelFileError(`loadTfjsModel(${file})`, `weightsManifest must be [{ paths: [string], weights: [...] }]`);
  }
  return { artifacts: json, groups: m as Manifest[] };
}

function shardPath(path: HostPath, dir: string, p: string, file: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p) || path.isAbsolute(p)) {
    throw new ModelFileError(`loadTfjsModel(${file})`, `weight path ${show(p)} must be relative to model.json`);
  }
  const full = path.resolve(dir, p);
  const rel = path.relative(dir, full);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new ModelFileError(`loadTfjsModel(${file})`, `weight path ${show(p)} points outside the model's directory`);
  }
  return full;
}

function assemble<M extends ModelTarget>(
  file: string,
  artifacts: Cfg,
  groups: Manifest[],
  shards: Uint8Array[][],
  options: FromTfjsOptions,
  create: CreateModel<M>,
): M {
  const specs: unknown[] = [];
  const buffers: Uint8Array[] = [];
  groups.forEach((g, gi) => {
    const data = shards[gi];
    const total = data.reduce((s, b) => s + b.length, 0);
    const joined = new Uint8Array(total);
    let o = 0;
    for (const b of data) {
      joined.set(b, o);
      o += b.length;
    }
    const view = new DataView(joined.buffer);
    let need = 0;
    g.weights.forEach((s, i) => {
      need += specBytes(checkSpec(s, i), view, need);
    });
    if (need !== total) {
      throw new ModelFileError(
        `loadTfjsModel(${file})`,
        `weight group ${gi} (${g.paths.join(', ')}) holds ${total} bytes, its ` +
          `${g.weights.length} weights need ${need}`,
      );
    }
    specs.push(...g.weights);
    buffers.push(joined);
  });
  const input: TfjsArtifactsInput = {
    modelTopology: artifacts['modelTopology'],
    weightSpecs: specs,
    weightData: buffers,
  };
  if (artifacts['trainingConfig'] !== undefined) input.trainingConfig = artifacts['trainingConfig'];
  return withSource(`loadTfjsModel(${file})`, () => buildFromTfjs(input, options, create));
}

/** An fs error as the loaders report it: which file could not be read, and why. */
function readError(file: string, what: string, e: unknown): ModelFileError {
  const code = (e as { code?: string }).code;
  return new ModelFileError(`loadTfjsModel(${file})`, `cannot read ${what}: ${code ?? (e as Error).message}`);
}

/** Reads a model.json and its weight files (weightsManifest paths, relative to it) into the model `create` makes. */
export async function readTfjsModel<M extends ModelTarget>(
  modelJsonPath: string,
  options: FromTfjsOptions,
  create: CreateModel<M>,
): Promise<M> {
  const host = fileHost('loadTfjsModel(path)', 'reads files');
  let text: string;
  try {
    text = await host.readTextAsync(modelJsonPath);
  } catch (e) {
    throw readError(modelJsonPath, 'it', e);
  }
  const { artifacts, groups } = readModelJson(text, modelJsonPath);
  const dir = host.path.dirname(host.path.resolve(modelJsonPath));
  const shards = await Promise.all(
    groups.map((g) =>
      Promise.all(
        g.paths.map(async (p) => {
          const full = shardPath(host.path, dir, p, modelJsonPath);
          try {
            return new Uint8Array(await host.readBytesAsync(full));
          } catch (e) {
            throw readError(modelJsonPath, `weight file ${show(p)}`, e);
          }
        }),
      ),
    ),
  );
  return assemble(modelJsonPath, artifacts, groups, shards, options, create);
}

export function readTfjsModelSync<M extends ModelTarget>(
  modelJsonPath: string,
  options: FromTfjsOptions,
  create: CreateModel<M>,
): M {
  const host = fileHost('loadTfjsModelSync(path)', 'reads files');
  let text: string;
  try {
    text = host.readText(modelJsonPath);
  } catch (e) {
    throw readError(modelJsonPath, 'it', e);
  }
  const { artifacts, groups } = readModelJson(text, modelJsonPath);
  const dir = host.path.dirname(host.path.resolve(modelJsonPath));
  const shards = groups.map((g) =>
    g.paths.map((p) => {
      const full = shardPath(host.path, dir, p, modelJsonPath);
      try {
        return new Uint8Array(host.readBytes(full));
      } catch (e) {
        throw readError(modelJsonPath, `weight file ${show(p)}`, e);
      }
    }),
  );
  return assemble(modelJsonPath, artifacts, groups, shards, options, create);
}

// ---------------------------------------------------------------------------------------------------------------------
// Writing

function modelJson(a: TfjsArtifacts): string {
  const json: Cfg = {
    modelTopology: a.modelTopology,
    format: a.format,
    generatedBy: a.generatedBy,
    convertedBy: a.convertedBy,
    weightsManifest: [{ paths: ['./weights.bin'], weights: a.weightSpecs }],
  };
  if (a.trainingConfig !== undefined) json['trainingConfig'] = a.trainingConfig;
  return JSON.stringify(json);
}

/**
 * Writes dir/weights.bin then dir/model.json, each atomically (the directory is created if needed). Node only; see
 * {@link loadTfjsModel} for an example.
 *
 * @param model - A built model.
 * @param dir - The directory to write into.
 * @param options - See {@link ToTfjsOptions}.
 * @returns A promise that resolves when both files are written.
 * @throws {@link ArgumentError} when the model is not built; file-system errors reject the promise.
 */
export async function saveTfjsModel(model: ModelSource, dir: string, options: ToTfjsOptions = {}): Promise<void> {
  const host = fileHost('saveTfjsModel(dir)', 'writes files');
  const a = toTfjs(model, options);
  await host.mkdirAsync(dir);
  await host.writeAtomicAsync(host.path.join(dir, 'weights.bin'), new Uint8Array(a.weightData));
  await host.writeAtomicAsync(host.path.join(dir, 'model.json'), modelJson(a));
}

/**
 * {@link saveTfjsModel}, synchronous. Node only.
 *
 * @param model - A built model.
 * @param dir - The directory to write into.
 * @param options - See {@link ToTfjsOptions}.
 * @throws {@link ArgumentError} when the model is not built; file-system errors are thrown as they come.
 */
export function saveTfjsModelSync(model: ModelSource, dir: string, options: ToTfjsOptions = {}): void {
  const host: Host = fileHost('saveTfjsModelSync(dir)', 'writes files');
  const a = toTfjs(model, options);
  host.mkdir(dir);
  host.writeAtomic(host.path.join(dir, 'weights.bin'), new Uint8Array(a.weightData));
  host.writeAtomic(host.path.join(dir, 'model.json'), modelJson(a));
}
