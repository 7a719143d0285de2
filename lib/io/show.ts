/**
 * Values in error messages of the file readers (lib/io/tfjs.ts, lib/io/safetensors.ts), safe on hostile input.
 */
/**
 * A value as error messages show it: JSON text for small values ('"relu6"', '[null,5,2]'), cut at 200 characters and
 * at nesting depth 4, so that a hostile file (a 200 000-deep array, a 10⁸-character string) cannot make the message itself
 * overflow the stack or memory. undefined shows as 'nothing'.
 */
export function show(v: unknown, limit = 200): string {
  let out = '';
  const put = (s: string): boolean => {
    out += s;
    return out.length < limit;
  };
  const walk = (x: unknown, depth: number): boolean => {
    if (x === undefined) return put('nothing');
    if (x === null || typeof x === 'boolean') return put(String(x));
    if (typeof x === 'number') return put(Number.isFinite(x) ? JSON.stringify(x) : String(x));
    if (typeof x === 'string') return put(JSON.stringify(x.length > limit ? x.slice(0, limit) : x));
    if (typeof x !== 'object') return put(typeof x);
    if (ArrayBuffer.isView(x) || x instanceof ArrayBuffer)
      return put(`<${x.constructor.name} of ${(x as ArrayBuffer).byteLength} bytes>`);
    const arr = Array.isArray(x);
    if (depth >= 4) return put(arr ? '[…]' : '{…}');
    if (!put(arr ? '[' : '{')) return false;
    const keys = arr ? null : Object.keys(x);
    const n = arr ? (x as unknown[]).length : (keys as string[]).length;
    for (let i = 0; i < n; i++) {
      if (i > 0 && !put(',')) return false;
      if (keys !== null && !put(`${JSON.stringify(keys[i].slice(0, limit))}:`)) return false;
      if (!walk(arr ? (x as unknown[])[i] : (x as Record<string, unknown>)[keys?.[i] as string], depth + 1))
        return false;
    }
    return put(arr ? ']' : '}');
  };
  walk(v, 0);
  return out.length > limit ? `${out.slice(0, limit)}…` : out;
}
