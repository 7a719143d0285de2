/**
 * The import graph of the source tree, read with the TypeScript parser (not regexes): every `import`/`export … from`,
 * `require('…')` and `import('…')` of each .ts file under the given folders, resolved to repo-relative paths. A type-only
 * import (`import type`, `import { type A }` only, `typeof import('…')`) is marked so a rule can tell it apart: it is
 * erased from the JavaScript, but a reader still has to follow it.
 *
 *   const g = importGraph(root, ['lib', 'kernels']);   // Map<'lib/model/sequential.ts', Edge[]>
 *   cycles(g)                                           // [] when no file can reach itself
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

export interface Edge {
  /** Repo-relative target ('lib/errors.ts'), or the bare module name ('fs', 'ndarray'). */
  to: string;
  /** True for a package or Node built-in rather than a file of the repo. */
  external: boolean;
  typeOnly: boolean;
  line: number;
}

export type Graph = Map<string, Edge[]>;

function walk(dir: string, out: string[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
}

function resolve(root: string, from: string, spec: string): string | null {
  // Sources name their imports as the compiled files ('./matmul.js', so that the ESM build runs as it is); the source
  // of './matmul.js' is './matmul.ts'.
  const base = path.resolve(root, path.dirname(from), spec.replace(/\.js$/, ''));
  for (const c of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return path.relative(root, c).split(path.sep).join('/');
  }
  return null;
}

export function importGraph(root: string, folders: readonly string[]): Graph {
  const files: string[] = [];
  for (const f of folders) walk(path.join(root, f), files);
  const g: Graph = new Map();
  for (const abs of files) {
    const file = path.relative(root, abs).split(path.sep).join('/');
    const src = ts.createSourceFile(file, fs.readFileSync(abs, 'utf8'), ts.ScriptTarget.Latest, true);
    const edges: Edge[] = [];
    const add = (spec: string, typeOnly: boolean, node: ts.Node): void => {
      const line = src.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      if (!spec.startsWith('.')) {
        edges.push({ to: spec, external: true, typeOnly, line });
        return;
      }
      const to = resolve(root, file, spec);
      if (to === null) throw new Error(`${file}:${line}: cannot resolve ${spec}`);
      edges.push({ to, external: false, typeOnly, line });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
        const c = node.importClause;
        const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
        const allInlineTypes =
          c !== undefined &&
          c.name === undefined &&
          named !== undefined &&
          named.length > 0 &&
          named.every((e) => e.isTypeOnly);
        add(node.moduleSpecifier.text, c?.isTypeOnly === true || allInlineTypes, node);
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        add(node.moduleSpecifier.text, node.isTypeOnly, node);
      } else if (
        ts.isCallExpression(node) &&
        node.arguments.length === 1 &&
        ts.isStringLiteral(node.arguments[0]) &&
        ((ts.isIdentifier(node.expression) && node.expression.text === 'require') ||
          node.expression.kind === ts.SyntaxKind.ImportKeyword)
      ) {
        add(node.arguments[0].text, false, node);
      } else if (
        ts.isImportTypeNode(node) &&
        ts.isLiteralTypeNode(node.argument) &&
        ts.isStringLiteral(node.argument.literal)
      ) {
        add(node.argument.literal.text, true, node);
      }
      ts.forEachChild(node, visit);
    };
    visit(src);
    g.set(file, edges);
  }
  return g;
}

/** Every strongly connected set of two or more files (or a file importing itself), as a path that closes the circle. */
export function cycles(g: Graph, include: (e: Edge) => boolean = () => true): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const strong = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const e of g.get(v) ?? []) {
      if (e.external || !include(e) || !g.has(e.to)) continue;
      if (!index.has(e.to)) {
        strong(e.to);
        low.set(v, Math.min(low.get(v)!, low.get(e.to)!));
      } else if (onStack.has(e.to)) {
        low.set(v, Math.min(low.get(v)!, index.get(e.to)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      const selfLoop = (g.get(v) ?? []).some((e) => e.to === v && include(e));
      if (scc.length > 1 || selfLoop) found.push(scc.sort());
    }
  };
  for (const v of [...g.keys()].sort()) if (!index.has(v)) strong(v);
  return found;
}
