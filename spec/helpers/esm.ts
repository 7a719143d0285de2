/**
 * A real ESM `import()` from the CommonJS specs: tsc compiles `import(p)` to `require(p)` under module CommonJS, which
 * cannot load the `.mjs` modules bptt generates (exportScorer), so the call is built once here.
 */
// eslint-disable-next-line no-restricted-syntax -- fixed source, no value interpolated
const dynamicImport = new Function('p', 'return import(p)') as (p: string) => Promise<unknown>;

/** Imports an ES module file (absolute path) and returns its namespace, typed as the caller expects. */
export async function importEsm<T>(file: string): Promise<T> {
  return (await dynamicImport(file)) as T;
}
