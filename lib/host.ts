/**
 * The host: what the core asks of its environment beyond ECMAScript: files, worker threads, the machine's cores and
 * memory. The core (everything `import 'bptt'` reaches in a browser or a bundle) imports no Node built-in; it asks
 * the installed host, and works without one.
 *
 *   Node       the Node entry (lib/node/index.ts: what `require('bptt')` and Node's `import 'bptt'` resolve to, and
 *              `bptt/node`) installs lib/node/host.ts before anything runs, so file paths, worker threads and the
 *              memory check work as they always have.
 *   browser    no host. A file-path API (`Detector.save(path)`, `Sequential.load(path)`, `loadTfjsModel(path)`, …)
 *              throws a NodeOnlyError naming itself and the browser way to do the same (`toJSON()`/`fromJSON()`,
 *              `toTfjs()`/`fromTfjs()`); `workers: 'auto'` is 1 and an explicit count above 1 throws; the memory check
 *              has no machine total (the per-array and wasm limits still apply).
 *
 * The host is an object of plain functions, so a test can install its own (or none) with `installHost`. Internal: not
 * on the package surface (lib/index.ts exports only NodeOnlyError from here).
 */

/** The slice of Node's `MessagePort` the worker pool uses. */
export interface HostPort {
  postMessage(message: unknown): void;
  unref(): void;
}

/** The slice of Node's `Worker` the worker pool uses. */
export interface HostWorker {
  readonly threadId: number;
  unref(): void;
  terminate(): Promise<number>;
}

/** The slice of Node's `worker_threads` the worker pool uses (typed here so the core needs no Node typings). */
export interface HostThreads {
  MessageChannel: new () => { port1: HostPort; port2: HostPort };
  Worker: new (
    file: string,
    options: { workerData: unknown; transferList: unknown[]; resourceLimits?: { maxYoungGenerationSizeMb?: number } },
  ) => HostWorker;
  receiveMessageOnPort(port: HostPort): { message: unknown } | undefined;
}

/** The path arithmetic the file APIs use (Node's `path` has these). */
export interface HostPath {
  join(...parts: string[]): string;
  resolve(...parts: string[]): string;
  relative(from: string, to: string): string;
  dirname(path: string): string;
  isAbsolute(path: string): boolean;
}

/** What a host provides. Paths are the host's own (Node: relative to the working directory). */
export interface Host {
  /** Reads a whole file as UTF-8 text. */
  readText(path: string): string;
  readTextAsync(path: string): Promise<string>;
  /** Reads a whole file as bytes. */
  readBytes(path: string): Uint8Array;
  readBytesAsync(path: string): Promise<Uint8Array>;
  /** Replaces a file atomically (temp file, fsync, rename: lib/node/atomic.ts); strings are written as UTF-8. */
  writeAtomic(path: string, data: string | Uint8Array): void;
  writeAtomicAsync(path: string, data: string | Uint8Array): Promise<void>;
  /** Creates a directory and its parents (no error when it exists). */
  mkdir(dir: string): void;
  mkdirAsync(dir: string): Promise<void>;
  /** Path arithmetic (Node: the `path` module). */
  path: HostPath;
  /** Worker threads with shared memory, and the compiled worker script; null where the pool cannot run. */
  threads(): { api: HostThreads; script: string | null } | null;
  /** The cores this process may use (1 where unknown). */
  cores(): number;
  /** The machine's memory in bytes (Infinity where unknown). */
  totalMemory(): number;
}

let installed: Host | null = null;

/** Installs the host the core asks for files, threads and machine facts (the Node entry installs Node's). */
export function installHost(host: Host | null): void {
  installed = host;
}

/** The installed host, or null (a browser, or a bundle of the core alone). */
export function currentHost(): Host | null {
  return installed;
}

/**
 * Thrown by an API that needs a host facility (a file path, worker threads) where none is installed: a browser, or the
 * core imported without the Node entry. `api` names the call, `alternative` the way to do it there.
 *
 * @example
 * ```text
 * try { detector.save('d.json'); } catch (e) { if (e instanceof NodeOnlyError) download(JSON.stringify(detector)); }
 * ```
 */
export class NodeOnlyError extends Error {
  /** 'NodeOnlyError'. */
  override readonly name = 'NodeOnlyError';
  /** The call that needs Node ('Detector.save(path)'). */
  readonly api: string;
  /** What to do instead where there is no file system (a browser). */
  readonly alternative: string;

  /**
   * @param api - The call that needs Node ('Detector.save(path)').
   * @param what - What it does that needs Node ('writes a file').
   * @param alternative - What to do instead where there is no file system.
   */
  constructor(api: string, what: string, alternative: string) {
    super(`${api} ${what} and needs Node (import 'bptt' under Node, or 'bptt/node'); ${alternative}`);
    this.api = api;
    this.alternative = alternative;
  }
}

/** The alternatives named by the file APIs' errors. */
const DETECTOR_ALT =
  'in a browser use detector.toJSON() (JSON.stringify it, or put it in a Blob) and Detector.fromJSON';
const MODEL_ALT = 'in a browser use model.toJSON() (JSON.stringify it, or put it in a Blob) and Sequential.fromJSON';
const TFJS_ALT = 'in a browser use toTfjs(model) / fromTfjs(artifacts) with the ArrayBuffers of a fetch or a Blob';
const TORCH_ALT = 'in a browser pass the state dict as { shape, data } tensors to loadTorchStateDict';

/** The alternative to name for a file API, by the call's name. */
export function browserAlternative(api: string): string {
  if (api.startsWith('Detector') || api.startsWith('detector')) return DETECTOR_ALT;
  if (/tfjs/i.test(api)) return TFJS_ALT;
  if (/torch|safetensors/i.test(api)) return TORCH_ALT;
  return MODEL_ALT;
}

/** The installed host for a file operation of `api`; throws a NodeOnlyError naming `api` where there is none. */
export function fileHost(api: string, what: string): Host {
  if (installed === null) throw new NodeOnlyError(api, what, browserAlternative(api));
  return installed;
}
