/**
 * The wasm arena: one WebAssembly.Memory that owns the operands of the SIMD kernels, so a product passes pointers and
 * copies nothing. Workspaces that want the wasm path allocate their buffers here instead of with `new Float32Array`.
 *
 *   const arena = wasmArena();                       // the process-wide arena (created on first use)
 *   const [A, B, C] = arena.allocF32s(M * K, K * N, M * N);   // one reserve, then three views that stay valid
 *   matmulWasm(C, 0, N, A, 0, K, B, 0, N, M, K, N, false);                                 // from ./gemm
 *
 * Memory and views. A Float32Array returned by `allocF32` or `f32` is a view on `memory.buffer`. Growing a WebAssembly
 * memory detaches that buffer: every earlier view becomes empty (length 0). So:
 *  - allocate before use: `reserve(total)` once, then allocate the pieces; `reserve` grows at most once and nothing grows
 *    between then and the last allocation that fits (`allocF32s(...sizes)` does both). A cell workspace sums its
 *    buffer sizes, reserves, then allocates.
 *  - or keep pointers: `alloc` returns a byte address that stays valid for the life of the arena; `f32(ptr, n)` makes a
 *    fresh view. `generation` counts the growths, so a holder of views can check one number before a step and rebuild.
 * The arena grows only inside `reserve`/`alloc`/`allocF32`, never inside a product. The kernels reject a detached view
 * with a RangeError that says so (and any array that is not a view on this memory).
 *
 * Allocation is a bump pointer with 64-byte (cache line) alignment; `mark()`/`release(mark)` free everything allocated
 * after a mark, `reset()` frees everything. There is no per-buffer free: a workspace lives as long as its model.
 *
 * Layout: bytes [0, 64) are never handed out (0 is not a valid operand), then the kernels' scratch (SCRATCH_BYTES, the
 * packed panels of module.ts), then the heap.
 *
 * Threads: `shared: true` makes the memory a SharedArrayBuffer that worker threads can attach to with
 * `attachWasmArena(memory)`; each attached arena gets its own scratch (allocated from the shared heap by the creating
 * thread) so two threads never pack into the same panels. Allocate in one thread only: the bump pointer is not shared.
 */
import { SCRATCH_BYTES, buildGemmModule, relaxedSimdProbeBytes, simdProbeBytes } from './module.js';

/** The parts of the WebAssembly JS API used here (declared locally: the repo compiles without lib.dom). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => WasmInstance;
  validate(bytes: Uint8Array): boolean;
}
const WA: WasmApi | undefined = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** The module's exports (see module.ts and gates.ts): byte pointers, element counts and leading dimensions, acc 0 | 1. */
export interface GemmExports {
  matmul(
    c: number,
    ldc: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    M: number,
    K: number,
    N: number,
    acc: number,
  ): void;
  matmulABt(
    c: number,
    ldc: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    M: number,
    K: number,
    N: number,
    acc: number,
  ): void;
  matmulAtB(
    c: number,
    ldc: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    M: number,
    K: number,
    N: number,
    acc: number,
  ): void;
  /** C[M,N] (+)= A[M,K] · B, B packed beforehand at bp (ops.ts packedB); M ≥ 4 only. */
  matmulPacked(
    c: number,
    ldc: number,
    a: number,
    lda: number,
    bp: number,
    M: number,
    K: number,
    N: number,
    acc: number,
  ): void;
  gemv(c: number, x: number, incx: number, b: number, ldb: number, K: number, N: number, acc: number): void;
  gemvBt(c: number, x: number, incx: number, b: number, ldb: number, K: number, N: number, acc: number): void;
  // Elementwise (gates.ts): dst[0…n) = f(src[0…n)), and the fused forward gate kernels of one time step.
  vexp(dst: number, src: number, n: number): void;
  vsigmoid(dst: number, src: number, n: number): void;
  vtanh(dst: number, src: number, n: number): void;
  addBias(c: number, ldc: number, b: number, M: number, N: number): void;
  sumRows(s: number, c: number, ldc: number, M: number, N: number): void;
  foldBlocks(p: number, n: number, count: number): void;
  lstmGates(a: number, c: number, phiC: number, h: number, B: number, H: number): void;
  /** The LSTM's forward time loop (module.ts): per step z_t += h_{t-1}·U (packed panels at up when up ≠ 0), lstmGates. */
  lstmSteps(
    a: number,
    c: number,
    phiC: number,
    h: number,
    u: number,
    up: number,
    T: number,
    B: number,
    H: number,
  ): void;
  /** The GRU's forward time loop (module.ts), both variants (resetAfter 1 or 0); br: the recurrent biases, resetAfter. */
  gruSteps(
    a: number,
    h: number,
    innerH: number,
    rh: number,
    u: number,
    up: number,
    uph: number,
    br: number,
    T: number,
    B: number,
    H: number,
    resetAfter: number,
  ): void;
  gruGatesAfter(a: number, innerH: number, B: number, H: number): void;
  gruGatesBefore(a: number, rh: number, hPrev: number, B: number, H: number): void;
  gruOutput(a: number, hPrev: number, hOut: number, B: number, H: number): void;
  // The backward gate kernels of one time step (f64x2: the bits of the cells' TypeScript loops); dhSeq 0 = none.
  lstmBackward(
    dz: number,
    dh: number,
    dc: number,
    dhSeq: number,
    a: number,
    cPrev: number,
    phiC: number,
    B: number,
    H: number,
  ): void;
  gruBackwardAfter(
    dz: number,
    dInner: number,
    dh: number,
    dhSeq: number,
    a: number,
    hPrev: number,
    innerH: number,
    B: number,
    H: number,
  ): void;
  gruBackwardBefore(dz: number, dh: number, dhSeq: number, a: number, hPrev: number, B: number, H: number): void;
  gruBackwardReset(dz: number, dh: number, drh: number, a: number, hPrev: number, B: number, H: number): void;
  tanhBackward(dz: number, dh: number, dhSeq: number, h: number, n: number): void;
}

const PAGE = 65536;
const ALIGN = 64;
/** 65536 pages: the whole 32-bit address space, the limit of a wasm32 memory. */
const MAX_PAGES = 65536;

let simd: boolean | undefined;
/** True when this engine validates WebAssembly SIMD (v128) code. Cached after the first call. */
export function wasmSimdAvailable(): boolean {
  if (simd === undefined) {
    try {
      simd = WA !== undefined && WA.validate(simdProbeBytes());
    } catch {
      simd = false;
    }
  }
  return simd;
}

/**
 * The GEMM micro-kernel of an arena's module (module.ts, "Two variants"): 'relaxed-fma' multiplies and adds with
 * f32x4.relaxed_madd (one rounding on CPUs with FMA), 'simd128' with f32x4.mul then f32x4.add. The two give different
 * last bits; each repeats its own.
 */
export type WasmKernel = 'relaxed-fma' | 'simd128';

let relaxed: boolean | undefined;
let fused: boolean | undefined;
/** True when this engine validates relaxed SIMD (f32x4.relaxed_madd). Cached after the first call. */
export function wasmRelaxedSimdAvailable(): boolean {
  if (relaxed === undefined) {
    try {
      relaxed = WA !== undefined && wasmSimdAvailable() && WA.validate(relaxedSimdProbeBytes());
    } catch {
      relaxed = false;
    }
  }
  return relaxed;
}

/**
 * True when this engine's f32x4.relaxed_madd is fused (one rounding), as on x64 with FMA3 and on arm64; false where it
 * is lowered to mul then add, or where relaxed SIMD is missing. Runs a one-instruction probe once.
 */
export function wasmFmaFused(): boolean {
  if (fused === undefined) {
    fused = false;
    if (WA && wasmRelaxedSimdAvailable()) {
      const probe = new WA.Instance(new WA.Module(relaxedSimdProbeBytes()), {}).exports['probe'] as () => number;
      fused = probe() !== 0;
    }
  }
  return fused;
}

const KERNELS: readonly string[] = ['relaxed-fma', 'simd128', 'auto'];
let kernelChoice: WasmKernel | undefined;

/**
 * Selects the micro-kernel of arenas created from now on: 'relaxed-fma' (a RangeError where relaxed SIMD is missing),
 * 'simd128', or 'auto' (relaxed-fma where relaxed SIMD validates, else simd128; the default). Arenas already created
 * keep theirs. lib/backend.ts calls it with the environment variable BPTT_WASM_KERNEL.
 */
export function setWasmKernel(kernel: WasmKernel | 'auto', where = 'setWasmKernel(kernel)'): void {
  if (typeof kernel !== 'string' || !KERNELS.includes(kernel)) {
    throw new RangeError(
      `${where}: expected 'relaxed-fma', 'simd128' or 'auto', got ${String(JSON.stringify(kernel))}`,
    );
  }
  if (kernel === 'relaxed-fma' && !wasmRelaxedSimdAvailable()) {
    throw new RangeError(
      `${where}: 'relaxed-fma' needs WebAssembly relaxed SIMD, which this engine lacks ` +
        `(Node 20: node --experimental-wasm-relaxed-simd, or BPTT_WASM_KERNEL=relaxed-fma with bptt's Node entry); ` +
        `use 'simd128' or 'auto'`,
    );
  }
  kernelChoice = kernel === 'auto' ? undefined : kernel;
}

/** The micro-kernel new arenas get: the one set by setWasmKernel, else 'relaxed-fma' where available, else 'simd128'. */
export function wasmKernel(): WasmKernel {
  return kernelChoice ?? (wasmRelaxedSimdAvailable() ? 'relaxed-fma' : 'simd128');
}

const compiled = new Map<string, object>();
function gemmModule(shared: boolean, kernel: WasmKernel): object {
  const key = `${shared ? 'shared' : 'own'}:${kernel}`;
  let mod = compiled.get(key);
  if (!mod) {
    if (!WA || !wasmSimdAvailable()) {
      throw new Error(
        'wasm arena: WebAssembly SIMD is not available in this engine; use the js kernels (kernels/matmul.ts)',
      );
    }
    const fma = kernel === 'relaxed-fma';
    if (fma && !wasmRelaxedSimdAvailable()) {
      throw new RangeError(
        "wasm arena: kernel 'relaxed-fma' needs WebAssembly relaxed SIMD, which this engine lacks; use 'simd128'",
      );
    }
    // Synchronous compile: fine in Node and in workers; a browser main thread limits it to 4 KB modules (this one is
    // larger), so there compile with WebAssembly.compile and pass the result to a future async constructor.
    mod = new WA.Module(
      buildGemmModule(shared ? { minPages: 1, maxPages: MAX_PAGES, shared: true, fma } : { minPages: 1, fma }),
    );
    compiled.set(key, mod);
  }
  return mod;
}

const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

export interface WasmArenaOptions {
  /** Heap bytes available before the first growth (default 4 MiB). */
  initialBytes?: number;
  /** Upper bound of the memory in bytes (default and maximum: 4 GiB). Required in effect for shared memories. */
  maximumBytes?: number;
  /** Back the arena by a SharedArrayBuffer (for worker threads). */
  shared?: boolean;
  /** The micro-kernel of its module (default: `wasmKernel()` when the arena is created). */
  kernel?: WasmKernel;
}

export class WasmArena {
  readonly memory: WasmMemory;
  readonly shared: boolean;
  /** The micro-kernel its products run ('relaxed-fma' or 'simd128'), fixed when it was created. */
  readonly kernel: WasmKernel;
  /** The module instance's products (unchecked: byte pointers). Use the checked façade in ./gemm. */
  readonly kernels: GemmExports;
  /** Byte address of this instance's scratch, and the first heap byte after it. */
  readonly scratch: number;
  readonly heapBase: number;
  private topPtr: number;
  private readonly attached: boolean;
  private growths = 0;
  private readonly buffers = new WeakSet<object>();
  /** memory.buffer as last read (see isLive). */
  private live: ArrayBufferLike;

  /** A new memory, or (attach) an existing shared one whose scratch was allocated by its creator. */
  constructor(opts: WasmArenaOptions = {}, attach?: { memory: WasmMemory; scratch: number }) {
    if (!WA) throw new Error('wasm arena: WebAssembly is not available in this engine');
    const shared = attach ? !(attach.memory.buffer instanceof ArrayBuffer) : opts.shared === true;
    const maxPages = Math.min(MAX_PAGES, Math.ceil((opts.maximumBytes ?? MAX_PAGES * PAGE) / PAGE));
    const first = roundUp(ALIGN, ALIGN) + roundUp(SCRATCH_BYTES, ALIGN);
    if (attach) {
      this.memory = attach.memory;
      this.scratch = attach.scratch;
      this.heapBase = ALIGN; // an attached arena does not allocate; views may lie anywhere but [0, 64)
      this.topPtr = this.memory.buffer.byteLength;
    } else {
      const initialPages = Math.ceil((first + (opts.initialBytes ?? 4 << 20)) / PAGE);
      if (initialPages > maxPages) throw new RangeError(`wasm arena: initialBytes exceeds maximumBytes`);
      this.memory = new WA.Memory(
        shared
          ? { initial: initialPages, maximum: maxPages, shared: true }
          : opts.maximumBytes !== undefined
            ? { initial: initialPages, maximum: maxPages }
            : { initial: initialPages },
      );
      this.scratch = ALIGN;
      this.heapBase = this.topPtr = first;
    }
    this.shared = shared;
    this.attached = attach !== undefined;
    this.live = this.memory.buffer;
    this.buffers.add(this.live);
    const kernel = opts.kernel ?? wasmKernel();
    if (kernel !== 'relaxed-fma' && kernel !== 'simd128') {
      throw new RangeError(`WasmArena(opts.kernel): expected 'relaxed-fma' or 'simd128', got ${String(kernel)}`);
    }
    this.kernel = kernel;
    const instance = new WA.Instance(gemmModule(shared, kernel), {
      env: { memory: this.memory, scratch: this.scratch },
    });
    this.kernels = instance.exports as unknown as GemmExports;
  }

  /** Bytes handed out so far end here. */
  get top(): number {
    return this.topPtr;
  }
  /** Current size of the memory in bytes. */
  get capacity(): number {
    return this.memory.buffer.byteLength;
  }
  /** How many times the memory has grown (each growth detaches earlier views of a non-shared arena). */
  get generation(): number {
    return this.growths;
  }

  /** Makes sure `bytes` more bytes can be allocated without growing; grows (once) if not. */
  reserve(bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 0)
      throw new RangeError(`reserve(bytes): expected a non-negative integer, got ${bytes}`);
    if (this.attached)
      throw new Error('reserve: an attached arena does not allocate; allocate in the thread that created it');
    const need = roundUp(this.topPtr, ALIGN) + bytes;
    const have = this.memory.buffer.byteLength;
    if (need <= have) return;
    const pages = Math.ceil((need - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch (e) {
      throw new RangeError(`wasm arena: cannot grow by ${pages} pages to ${need} bytes (${(e as Error).message})`, {
        cause: e,
      });
    }
    this.growths++;
    this.live = this.memory.buffer;
    this.buffers.add(this.live);
  }

  /**
   * Whether `buf` is the memory's current buffer, i.e. a view on it is a live view on the arena. The same answer as
   * `buf === memory.buffer` without reading that getter (a call into the engine) on every product: the buffer is kept
   * from the last read, refreshed on growth here, and read again on a miss (a shared memory another thread grew).
   */
  isLive(buf: ArrayBufferLike): boolean {
    if (buf === this.live) return true;
    this.live = this.memory.buffer;
    return buf === this.live;
  }

  /** Allocates `bytes` bytes (64-byte aligned) and returns their byte address; may grow the memory. */
  alloc(bytes: number): number {
    this.reserve(bytes);
    const ptr = roundUp(this.topPtr, ALIGN);
    this.topPtr = ptr + bytes;
    return ptr;
  }

  /** Allocates n f32 (zeroed if never used before; reused memory after `release` keeps old values) and views them. */
  allocF32(n: number): Float32Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`allocF32(n): expected a non-negative integer, got ${n}`);
    return this.f32(this.alloc(4 * n), n);
  }

  /**
   * Allocates several f32 buffers with one `reserve`, so no allocation among them can detach another:
   * `const [A, B, C] = arena.allocF32s(M * K, K * N, M * N)`.
   */
  allocF32s(...sizes: number[]): Float32Array[] {
    let total = 0;
    for (const n of sizes) {
      if (!Number.isInteger(n) || n < 0)
        throw new RangeError(`allocF32s(sizes): expected non-negative integers, got ${n}`);
      total += roundUp(4 * n, ALIGN);
    }
    this.reserve(total + ALIGN);
    return sizes.map((n) => this.f32(this.alloc(4 * n), n));
  }

  /** A fresh view of n f32 at byte address ptr (which must lie in the heap). */
  f32(ptr: number, n: number): Float32Array {
    if (ptr % 4 !== 0 || ptr < this.heapBase || ptr + 4 * n > this.topPtr) {
      throw new RangeError(
        `f32(ptr, n): [${ptr}, ${ptr + 4 * n}) is not inside the allocated heap [${this.heapBase}, ${this.topPtr})`,
      );
    }
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  /** The current top, to `release` back to. */
  mark(): number {
    return this.topPtr;
  }
  /** Frees everything allocated after `mark` (views of it must no longer be used). */
  release(mark: number): void {
    if (mark < this.heapBase || mark > this.topPtr)
      throw new RangeError(`release(mark): ${mark} is not a mark of this arena`);
    this.topPtr = mark;
  }
  /** Frees every allocation. */
  reset(): void {
    this.topPtr = this.heapBase;
  }

  /**
   * Byte address of element `off` of `view`, after checking that `view` is a live f32 view on this memory whose
   * elements [off, off + count) lie outside the kernels' scratch. `name` goes into the error.
   */
  address(name: string, view: Float32Array, off: number, count: number): number {
    if (!(view instanceof Float32Array) || !this.buffers.has(view.buffer)) {
      throw new RangeError(
        `${name}: expected a Float32Array view on the wasm arena's memory (allocate it with arena.allocF32)`,
      );
    }
    if (view.buffer.byteLength === 0) {
      throw new RangeError(`${name}: the view is detached because the arena grew; re-create it with arena.f32(ptr, n)`);
    }
    const lo = view.byteOffset + 4 * off,
      hi = lo + 4 * count;
    if (count > 0 && (lo < ALIGN || (lo < this.scratch + SCRATCH_BYTES && hi > this.scratch))) {
      throw new RangeError(`${name}: the block [${lo}, ${hi}) overlaps the kernels' scratch`);
    }
    return lo;
  }
}

let defaultArena: WasmArena | null = null;
/** The process-wide arena (non-shared, 4 MiB to start), created on first use. Throws when SIMD is missing. */
export function wasmArena(): WasmArena {
  if (!defaultArena) defaultArena = new WasmArena();
  return defaultArena;
}

/**
 * In a worker: an arena over a shared memory created elsewhere, using a scratch region of SCRATCH_BYTES that the
 * creating thread allocated for this worker (`creator.alloc(SCRATCH_BYTES)`). It runs products; it does not allocate.
 * Pass the creator's `kernel` so both threads round alike (default: this thread's `wasmKernel()`).
 */
export function attachWasmArena(memory: WasmMemory, scratch: number, kernel?: WasmKernel): WasmArena {
  return new WasmArena(kernel === undefined ? {} : { kernel }, { memory, scratch });
}

export { SCRATCH_BYTES };
