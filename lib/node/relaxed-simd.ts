/**
 * `BPTT_WASM_KERNEL=relaxed-fma` on an engine that has WebAssembly relaxed SIMD only behind a V8 flag (Node 20:
 * `--experimental-wasm-relaxed-simd`, which NODE_OPTIONS does not accept): turns that flag on, so the FMA micro-kernel
 * can be asked for from the environment alone. Only when asked, only when the engine does not validate relaxed SIMD
 * already, and before any bptt module is compiled (lib/node/install.ts imports this first). V8 flags are per process,
 * so the worker threads get it too. Nothing else changes: without the variable this module does nothing.
 */
import * as v8 from 'v8';
import { relaxedSimdProbeBytes } from '../../kernels/wasm/module.js';

const FLAG = '--experimental-wasm-relaxed-simd';

/** Whether the engine validates relaxed SIMD now. */
function validates(): boolean {
  try {
    const wa = (globalThis as { WebAssembly?: { validate(bytes: Uint8Array): boolean } }).WebAssembly;
    return wa !== undefined && wa.validate(relaxedSimdProbeBytes());
  } catch {
    return false;
  }
}

/** Turns on relaxed SIMD when BPTT_WASM_KERNEL asks for its kernel and the engine keeps it behind the flag. */
function enableRelaxedSimdIfAsked(env: Record<string, string | undefined>): void {
  if (env['BPTT_WASM_KERNEL'] !== 'relaxed-fma' || validates()) return;
  v8.setFlagsFromString(FLAG);
  // An engine without the flag ignores it: lib/backend.ts then says that relaxed SIMD is missing, naming the variable.
}

enableRelaxedSimdIfAsked(process.env);
