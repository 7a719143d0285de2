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
 *   lib/node            the Node host (files through fs, atomic writes, worker_threads, os): lib/node/install.ts
 *                       installs it into the core (lib/host.ts)
 *   lib/watch           `bptt watch` (Node only): Prometheus in, /metrics out
 *   lib/fleet           `bptt/fleet` (Node only): the Redis fleet; its own entry point, which nothing below imports;
 *                       it alone may load the optional peer dependencies ioredis and bullmq
 *   lib/cli             the command line (Node-only: it installs the Node host)
 *   thread entry        lib/parallel/worker.ts, the worker thread (Node-only)
 *   lib/index.ts        the package surface and browser entry: nothing inside lib imports it but the Node entry
 *   lib/node/index.ts   the Node entry: installs the Node host, re-exports lib/index.ts
 *
 * Where things run: nothing the browser entry (lib/index.ts) reaches imports a Node built-in, or names require,
 * __dirname or __filename; the Node-only parts sit above it (lib/node, lib/cli, the worker thread).
 *
 * A module may import from its own layer or any lower one. The graph is read with the TypeScript parser
 * (spec/helpers/imports.ts), type-only imports included: they are erased at run time, but a reader follows them too.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';
import * as ts from 'typescript';
import { type Edge, type Graph, cycles, importGraph } from './helpers/imports';
import { repoRoot } from './helpers/repo';
import { coreEnv } from './helpers/proc';

const LAYERS: Array<[string, RegExp]> = [
  ['kernels', /^kernels\//],
  ['base', /^lib\/(errors|check|tensor|random|backend|host)\.ts$|^lib\/io\/show\.ts$/],
  ['model parts', /^lib\/model\/(layers\/|(optimizers|losses|init)\.ts$)|^lib\/memory\.ts$/],
  ['io', /^lib\/io\//],
  ['model', /^lib\/model\/|^lib\/parallel\/(?!worker)/],
  ['detect', /^lib\/detect\//],
  ['node host', /^lib\/node\/(?!index\.ts$)/],
  ['watch', /^lib\/watch\//],
  ['fleet', /^lib\/fleet\//],
  ['cli', /^lib\/cli\//],
  ['thread entry', /^lib\/parallel\/worker(-guard)?\.ts$/],
  ['entry', /^lib\/index\.ts$/],
  ['node entry', /^lib\/node\/index\.ts$/],
];

/** A Node built-in module name ('fs', 'node:fs', 'fs/promises'). */
function isBuiltin(name: string): boolean {
  const bare = name.replace(/^node:/, '');
  return name.startsWith('node:') || builtinModules.includes(bare) || builtinModules.includes(bare.split('/')[0]);
}

/** Every file reachable from `from` along imports (type-only ones too: a .d.ts keeps them). */
function reachable(g: Graph, from: string): Set<string> {
  const seen = new Set<string>([from]);
  const todo = [from];
  while (todo.length > 0) {
    for (const e of g.get(todo.pop() as string) ?? []) {
      if (!e.external && !seen.has(e.to)) {
        seen.add(e.to);
        todo.push(e.to);
      }
    }
  }
  return seen;
}

/** Uses of Node's module-scope names (require, __dirname, __filename) in a source file, as "file:line name". */
function nodeGlobals(root: string, file: string): string[] {
  const src = ts.createSourceFile(file, fs.readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n) && ['require', '__dirname', '__filename'].includes(n.text))
      found.push(`${file}:${src.getLineAndCharacterOfPosition(n.getStart()).line + 1} ${n.text}`);
    ts.forEachChild(n, visit);
  };
  visit(src);
  return found;
}

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

  it('nothing inside lib/ imports the package surface (lib/index.ts) but the Node entry', () => {
    const bad: string[] = [];
    for (const [file, edges] of g)
      for (const e of edges) if (e.to === 'lib/index.ts' && file !== 'lib/node/index.ts') bad.push(show(file, e));
    expect(bad).to.deep.equal([]);
  });

  it('nothing the browser entry (lib/index.ts) reaches imports a Node built-in or names require/__dirname', () => {
    const core = reachable(g, 'lib/index.ts');
    expect(core.size).to.be.greaterThan(50);
    // The Node-only parts stay out of the core's reach.
    for (const nodeOnly of [
      'lib/node/host.ts',
      'lib/node/atomic.ts',
      'lib/parallel/worker.ts',
      'lib/cli/main.ts',
      'lib/fleet/index.ts',
    ])
      expect(core.has(nodeOnly), nodeOnly).to.equal(false);
    const bad: string[] = [];
    for (const file of core) {
      for (const e of g.get(file) ?? []) if (e.external && isBuiltin(e.to)) bad.push(show(file, e));
      bad.push(...nodeGlobals(repoRoot(), file));
    }
    expect(bad).to.deep.equal([]);
  });

  it('the check sees a Node built-in and require (a check that can fail)', () => {
    const edge = (to: string, external: boolean): Edge => ({ to, external, typeOnly: true, line: 3 });
    const g2: Graph = new Map([
      ['lib/index.ts', [edge('lib/a.ts', false)]],
      ['lib/a.ts', [edge('node:fs', true), edge('ndarray', true)]],
    ]);
    const hits = [...reachable(g2, 'lib/index.ts')].flatMap((f) =>
      (g2.get(f) ?? []).filter((e) => e.external && isBuiltin(e.to)).map((e) => e.to),
    );
    expect(hits).to.deep.equal(['node:fs']);
    expect(['fs', 'worker_threads', 'fs/promises', 'crypto', 'os', 'path'].every(isBuiltin)).to.equal(true);
    expect(isBuiltin('ndarray')).to.equal(false);
    expect(nodeGlobals(repoRoot(), 'lib/node/host.ts').some((h) => h.endsWith('__dirname'))).to.equal(true);
  });

  it('the Node entry installs the Node host; the core alone installs none', () => {
    const dist = path.resolve(__dirname, '..', 'lib');
    const probe = (entry: string): string => {
      const script =
        `const lib = require(${JSON.stringify(path.join(dist, entry))});` +
        `const h = require(${JSON.stringify(path.join(dist, 'host.js'))}).currentHost();` +
        `const n = require(${JSON.stringify(path.join(dist, 'node', 'host.js'))}).nodeHost;` +
        `process.stdout.write(String(h === null ? 'none' : h === n ? 'node' : 'other') + ' ' + typeof lib.Detector);`;
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: coreEnv() });
      expect(r.status, r.stderr).to.equal(0);
      return r.stdout;
    };
    expect(probe('node/index.js')).to.equal('node function');
    expect(probe('index.js')).to.equal('none function');
  });

  it('lib/ and kernels/ import no package but the declared runtime dependencies (and Node built-ins)', () => {
    const runtime = new Set(['ndarray', 'ndarray-ops', 'seedrandom']);
    const bad: string[] = [];
    for (const [file, edges] of g) {
      for (const e of edges) {
        if (!e.external || e.typeOnly || runtime.has(e.to)) continue;
        // optional peer dependencies of bptt/fleet, loaded on use
        if (file.startsWith('lib/fleet/') && (e.to === 'ioredis' || e.to === 'bullmq')) continue;
        if (builtinModules.includes(e.to.replace(/^node:/, ''))) continue;
        bad.push(show(file, e));
      }
    }
    expect(bad).to.deep.equal([]);
  });
});
