/**
 * The architecture, as a test: imports point down and never close a circle. The layers, lowest first:
 *
 *   kernels/            typed-array math; imports nothing outside kernels/ (copy the folder). The reference cells
 *                       (kernels/*.ts) import nothing from the fast path (kernels/fast/, kernels/wasm/).
 *   lib base            errors, the shared checks, input coercion (tensor.ts), the seeded rng, the backend choice
 *   model parts         lib/model/layers, optimizers, losses, initialisers; the memory estimate
 *   lib/io              model files: JSON, TensorFlow.js, safetensors, atomic writes. It reads and writes a model it is
 *                       given (lib/io/model-view.ts), built from the parts; it never imports Sequential
 *   lib/model           Sequential (fit/predict/evaluate, save/load through io), the loaders, presets; lib/parallel,
 *                       the worker pool that trains it
 *   lib/detect          the Detector and everything it scores with
 *   lib/watch           `bptt watch` (Node only): Prometheus in, /metrics out
 *   lib/cli             the command line
 *   lib/index.ts        the package surface: nothing inside lib imports it
 *
 * A module may import from its own layer or any lower one. The graph is read with the TypeScript parser
 * (spec/helpers/imports.ts), type-only imports included: they are erased at run time, but a reader follows them too.
 */
import { expect } from 'chai';
import { builtinModules } from 'module';
import { type Edge, type Graph, cycles, importGraph } from './helpers/imports';
import { repoRoot } from './helpers/repo';

const LAYERS: Array<[string, RegExp]> = [
  ['kernels', /^kernels\//],
  ['base', /^lib\/(errors|check|tensor|random|backend)\.ts$|^lib\/io\/show\.ts$/],
  ['model parts', /^lib\/model\/(layers\/|(optimizers|losses|init)\.ts$)|^lib\/memory\.ts$/],
  ['io', /^lib\/io\//],
  ['model', /^lib\/(model|parallel)\//],
  ['detect', /^lib\/detect\//],
  ['watch', /^lib\/watch\//],
  ['cli', /^lib\/cli\//],
  ['entry', /^lib\/[a-z-]+\.ts$/],
];

function layerOf(file: string): number {
  const i = LAYERS.findIndex(([, re]) => re.test(file));
  if (i < 0) throw new Error(`architecture.spec: ${file} is in no layer; add it to LAYERS`);
  return i;
}

describe('architecture: imports point down, no circles', function () {
  let g: Graph;
  before(() => {
    g = importGraph(repoRoot(), ['lib', 'kernels']);
  });

  const show = (file: string, e: Edge): string =>
    `${file}:${e.line} imports ${e.to}${e.typeOnly ? ' (type only)' : ''}`;

  it('no import circle among lib/ and kernels/ (type-only imports included)', () => {
    expect(g.size).to.be.greaterThan(50);
    expect(cycles(g).map((c) => c.join(' → '))).to.deep.equal([]);
  });

  it('the cycle finder finds a circle when there is one (a check that can fail)', () => {
    const edge = (to: string): Edge => ({ to, external: false, typeOnly: false, line: 1 });
    const looped: Graph = new Map([
      ['a.ts', [edge('b.ts')]],
      ['b.ts', [edge('c.ts')]],
      ['c.ts', [edge('a.ts')]],
      ['d.ts', [edge('a.ts')]],
    ]);
    expect(cycles(looped)).to.deep.equal([['a.ts', 'b.ts', 'c.ts']]);
    expect(
      cycles(
        new Map([
          ['a.ts', [edge('b.ts')]],
          ['b.ts', []],
        ]),
      ),
    ).to.deep.equal([]);
  });

  it('every import points to the same layer or a lower one', () => {
    const bad: string[] = [];
    for (const [file, edges] of g) {
      for (const e of edges) {
        if (!e.external && layerOf(e.to) > layerOf(file))
          bad.push(`${show(file, e)}: ${LAYERS[layerOf(file)][0]} → ${LAYERS[layerOf(e.to)][0]}`);
      }
    }
    expect(bad).to.deep.equal([]);
  });

  it('kernels/ imports nothing outside itself, no package, and the reference cells nothing of the fast path', () => {
    const bad: string[] = [];
    for (const [file, edges] of g) {
      if (!file.startsWith('kernels/')) continue;
      const reference = /^kernels\/[^/]+\.ts$/.test(file);
      for (const e of edges) {
        if (e.external || !e.to.startsWith('kernels/')) bad.push(show(file, e));
        else if (reference && /^kernels\/(fast|wasm)\//.test(e.to)) bad.push(`${show(file, e)} (a reference file)`);
      }
    }
    expect(bad).to.deep.equal([]);
  });

  it('nothing inside lib/ imports the package surface (lib/index.ts)', () => {
    const bad: string[] = [];
    for (const [file, edges] of g) for (const e of edges) if (e.to === 'lib/index.ts') bad.push(show(file, e));
    expect(bad).to.deep.equal([]);
  });

  it('lib/ and kernels/ import no package but the declared runtime dependencies (and Node built-ins)', () => {
    const runtime = new Set(['ndarray', 'ndarray-ops', 'seedrandom']);
    const bad: string[] = [];
    for (const [file, edges] of g) {
      for (const e of edges) {
        if (!e.external || e.typeOnly || runtime.has(e.to)) continue;
        if (builtinModules.includes(e.to.replace(/^node:/, ''))) continue;
        bad.push(show(file, e));
      }
    }
    expect(bad).to.deep.equal([]);
  });
});
