/**
 * What the fuzz suite watches while a case runs (installed in the fuzz worker only, never in the mocha process):
 *
 *   allocation   every typed array, ArrayBuffer, SharedArrayBuffer and Buffer.alloc* asked for more than
 *                ALLOCATION_BOUND bytes is refused (the constructor throws) and recorded. The inputs are at most a few
 *                MB, so a loader that asks for more has trusted a declared size (a shape of 1e9, units of 1e6) before
 *                checking it against the data it holds. Allocations made through references captured before install
 *                (and plain Arrays) are not seen.
 *   pollution    new own properties on Object.prototype, Array.prototype, Function.prototype, or new globals.
 *   execution    globalThis.__bpttFuzzPwned, which every payload string (mutate.ts PAYLOADS) would set if evaluated.
 */
export const ALLOCATION_BOUND = 64 << 20;

const TYPED = [
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
  'ArrayBuffer',
  'SharedArrayBuffer',
] as const;

type G = Record<string, unknown>;

export class Guard {
  /** The first refused allocation of the current case, or null. */
  tripped: string | null = null;
  private readonly saved = new Map<string, unknown>();
  private readonly savedBuffer: Record<string, unknown> = {};
  private snapshot: { obj: string[]; arr: string[]; fn: string[]; globals: string[] } | null = null;

  /** Replaces the constructors by bounded proxies (idempotent). */
  install(): void {
    if (this.saved.size > 0) return;
    const g = globalThis as unknown as G;
    for (const name of TYPED) {
      const C = g[name] as (new (...a: unknown[]) => unknown) & { BYTES_PER_ELEMENT?: number };
      if (typeof C !== 'function') continue;
      this.saved.set(name, C);
      const bytesPer = C.BYTES_PER_ELEMENT ?? 1;
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the Proxy's trap needs the guard, and has its own `this`
      const guard = this;
      g[name] = new Proxy(C, {
        construct(target, args, newTarget) {
          const a0 = args[0] as unknown;
          let n = -1;
          if (typeof a0 === 'number') n = a0;
          else if (
            a0 !== null &&
            typeof a0 === 'object' &&
            !(a0 instanceof (guard.saved.get('ArrayBuffer') as typeof ArrayBuffer)) &&
            typeof (a0 as { length?: unknown }).length === 'number'
          )
            n = (a0 as { length: number }).length;
          if (n * bytesPer > ALLOCATION_BOUND) guard.refuse(`new ${name}(${n}): ${n * bytesPer} bytes`);
          return Reflect.construct(target, args, newTarget === g[name] ? target : newTarget) as object;
        },
      });
    }
    for (const m of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
      const f = Buffer[m] as (size: number, ...rest: unknown[]) => Buffer;
      this.savedBuffer[m] = f;
      (Buffer as unknown as G)[m] = (size: number, ...rest: unknown[]): Buffer => {
        if (typeof size === 'number' && size > ALLOCATION_BOUND) this.refuse(`Buffer.${m}(${size})`);
        return f.call(Buffer, size, ...rest);
      };
    }
  }

  uninstall(): void {
    const g = globalThis as unknown as G;
    for (const [name, C] of this.saved) g[name] = C;
    this.saved.clear();
    for (const [m, f] of Object.entries(this.savedBuffer)) (Buffer as unknown as G)[m] = f;
  }

  private refuse(what: string): never {
    if (this.tripped === null) this.tripped = `${what}, beyond the fuzz bound of ${ALLOCATION_BOUND} bytes`;
    throw new RangeError(`fuzz guard: refused ${what} (bound ${ALLOCATION_BOUND} bytes)`);
  }

  /** Before a case: clear the records, remember the prototypes' and the global object's own keys. */
  begin(): void {
    this.tripped = null;
    delete (globalThis as unknown as G)['__bpttFuzzPwned'];
    this.snapshot = {
      obj: Object.getOwnPropertyNames(Object.prototype),
      arr: Object.getOwnPropertyNames(Array.prototype),
      fn: Object.getOwnPropertyNames(Function.prototype),
      globals: Object.getOwnPropertyNames(globalThis),
    };
  }

  /** After a case: what was polluted or executed (restoring it), or null. */
  end(): string | null {
    const s = this.snapshot;
    if (s === null) return null;
    const problems: string[] = [];
    const g = globalThis as unknown as G;
    if (g['__bpttFuzzPwned'] !== undefined) {
      problems.push('a payload string was executed (globalThis.__bpttFuzzPwned set)');
      delete g['__bpttFuzzPwned'];
    }
    const diff = (now: string[], before: string[], where: string, holder: object): void => {
      for (const k of now) {
        if (!before.includes(k)) {
          problems.push(`${where} gained ${JSON.stringify(k)}`);
          delete (holder as G)[k];
        }
      }
    };
    diff(Object.getOwnPropertyNames(Object.prototype), s.obj, 'Object.prototype', Object.prototype);
    diff(Object.getOwnPropertyNames(Array.prototype), s.arr, 'Array.prototype', Array.prototype);
    diff(Object.getOwnPropertyNames(Function.prototype), s.fn, 'Function.prototype', Function.prototype);
    diff(Object.getOwnPropertyNames(globalThis), s.globals, 'globalThis', globalThis);
    if (({} as G)['bpttFuzzPolluted'] !== undefined) problems.push('plain objects inherit bpttFuzzPolluted');
    return problems.length > 0 ? problems.join('; ') : null;
  }
}
