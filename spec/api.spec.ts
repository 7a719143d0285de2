/**
 * The package surface (lib/index.ts), read with the TypeScript checker:
 * - every type a public signature names (a parameter, a return type, a public property, a base class) is exported too,
 *   so a user can write the type of what they pass and get (`const r: DetectResult = d.detect(x)`);
 * - internals stay off the surface (they remain importable by path, for tests).
 */
import { expect } from 'chai';
import * as path from 'path';
import * as ts from 'typescript';
import { repoRoot } from './helpers/repo';

/** Internals that must not be on the package surface (README: "What the package exports"). */
const INTERNAL = [
  'readSeries',
  'fillMissing',
  'Normaliser',
  'predictRows',
  'layerFromConfig',
  'writeFileAtomicSync',
  'resolveOptions',
];

describe('the public API (lib/index.ts)', function () {
  let checker: ts.TypeChecker;
  let exported: Map<string, ts.Symbol>;
  let exportedTargets: Set<ts.Symbol>;

  before(function () {
    this.timeout(120000);
    const index = path.join(repoRoot(), 'lib', 'index.ts');
    const program = ts.createProgram([index], {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
      types: ['node'],
      skipLibCheck: true,
      noEmit: true,
    });
    checker = program.getTypeChecker();
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
    exported = new Map();
    exportedTargets = new Set();
    const add = (s: ts.Symbol, prefix: string): void => {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      exported.set(prefix + s.name, target);
      exportedTargets.add(target);
      // A namespace export (`export * as kernels`): its members are on the surface too.
      if (target.flags & ts.SymbolFlags.ValueModule)
        for (const m of checker.getExportsOfModule(target)) add(m, `${prefix}${s.name}.`);
    };
    for (const s of checker.getExportsOfModule(moduleSymbol)) add(s, '');
  });

  it('exports every type that a public signature names', () => {
    const missing = new Set<string>();
    const fromRepo = (d: ts.Declaration): boolean => {
      const f = d.getSourceFile().fileName;
      return !f.includes('node_modules') && (f.includes('/lib/') || f.includes('/kernels/'));
    };
    const visitType = (node: ts.Node, where: string): void => {
      if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node)) {
        const name = ts.isTypeReferenceNode(node) ? node.typeName : node.expression;
        let s = checker.getSymbolAtLocation(name);
        if (s && s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
        if (
          s &&
          !(s.flags & ts.SymbolFlags.TypeParameter) &&
          !exportedTargets.has(s) &&
          (s.declarations ?? []).some(fromRepo)
        ) {
          missing.add(`${s.name} (named by ${where})`);
        }
      }
      ts.forEachChild(node, (c) => visitType(c, where));
    };
    const isPublic = (m: ts.Node): boolean => {
      const mods = ts.canHaveModifiers(m) ? (ts.getModifiers(m) ?? []) : [];
      if (mods.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword))
        return false;
      const n = (m as { name?: ts.Node }).name;
      return !(n && ts.isPrivateIdentifier(n));
    };
    /** The signature only (type parameters, parameters, return type), never a body. */
    const visitSignature = (d: ts.SignatureDeclaration, where: string): void => {
      for (const t of d.typeParameters ?? []) visitType(t, where);
      for (const p of d.parameters) if (p.type) visitType(p.type, where);
      if (d.type) visitType(d.type, where);
    };
    const visitDeclaration = (d: ts.Declaration, where: string): void => {
      if (ts.isClassDeclaration(d)) {
        for (const h of d.heritageClauses ?? []) visitType(h, where);
        for (const m of d.members) {
          if (!isPublic(m)) continue;
          const at = `${where}.${m.name?.getText() ?? 'constructor'}`;
          if (
            ts.isMethodDeclaration(m) ||
            ts.isConstructorDeclaration(m) ||
            ts.isGetAccessor(m) ||
            ts.isSetAccessor(m)
          ) {
            visitSignature(m, at);
          } else if (ts.isPropertyDeclaration(m) && m.type) {
            visitType(m.type, at);
          }
        }
      } else if (ts.isFunctionDeclaration(d)) {
        visitSignature(d, where);
      } else if (ts.isInterfaceDeclaration(d) || ts.isTypeAliasDeclaration(d)) {
        visitType(d, where);
      } else if (ts.isVariableDeclaration(d) && d.type) {
        visitType(d.type, where);
      }
    };
    for (const [name, s] of exported) for (const d of s.declarations ?? []) if (fromRepo(d)) visitDeclaration(d, name);
    expect([...missing].sort()).to.deep.equal([]);
  });

  it('keeps internals off the surface (no value export; a type may be named by a public signature)', () => {
    expect(exported.size).to.be.greaterThan(40);
    const runtime = Object.keys(require('../lib/index') as object);
    expect(runtime).to.include.members(['Sequential', 'Detector', 'ArgumentError', 'kernels']);
    expect(INTERNAL.filter((n) => runtime.includes(n))).to.deep.equal([]);
  });

  it('the data a user passes is typed as what is accepted, not unknown, and predict returns a typed NdArray', () => {
    const params = (cls: string, method: string): string[] => {
      const s = exported.get(cls);
      const decl = s?.declarations?.find(ts.isClassDeclaration);
      const m = decl?.members.find((x) => ts.isMethodDeclaration(x) && x.name.getText() === method);
      if (m === undefined || !ts.isMethodDeclaration(m)) throw new Error(`${cls}.${method} not found`);
      return [...m.parameters.map((p) => p.type?.getText() ?? 'untyped'), `=> ${m.type?.getText() ?? 'untyped'}`];
    };
    expect(params('Sequential', 'fit').slice(0, 2)).to.deep.equal(['TensorLike', 'TensorLike']);
    expect(params('Sequential', 'evaluate').slice(0, 2)).to.deep.equal(['TensorLike', 'TensorLike']);
    const predict = params('Sequential', 'predict');
    expect([predict[0], predict[predict.length - 1]]).to.deep.equal(['TensorLike', '=> NdArray']);
    for (const m of ['fit', 'score', 'detect'])
      expect(params('Detector', m)[0], `Detector.${m}`).to.equal('SeriesLike');
    // The threshold spec is the grammar, not any string.
    const spec = exported.get('ThresholdSpec')?.declarations?.[0];
    expect(spec && ts.isTypeAliasDeclaration(spec) ? spec.type.getText() : '').to.equal(
      'ThresholdString | ThresholdConfig',
    );
  });
});
