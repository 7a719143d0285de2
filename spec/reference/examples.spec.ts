/**
 * The API reference's promises (issue 14): every `@example` in lib/ and kernels/ compiles against the package under
 * strict TypeScript and runs without throwing (the examples assert their results), and every class and function the
 * package exports carries a doc comment with an `@param` for each parameter (and `@returns` unless it returns
 * nothing), so a new undocumented export fails here as well as in `npm run docs`.
 */
import { expect } from 'chai';
import * as path from 'path';
import * as ts from 'typescript';
import { repoRoot } from '../helpers/repo';
import { checkAndCompile, collectExamples, exampleModule, type Checked } from './examples';

const root = repoRoot();
/**
 * What `require('bptt')` gives under Node (package.json main): the Node entry, which installs the file and thread host
 * and exports lib/index.ts's surface; compiled into the out dir this spec was compiled into (dist/ or a private one).
 */
const LIB_INDEX_JS = path.resolve(__dirname, '../../lib/node/index.js');
const examples = collectExamples(root, ['lib', 'kernels']);

describe('doc comment examples (@example in lib/ and kernels/)', function () {
  let checked: Checked;

  before(function () {
    this.timeout(120000);
    checked = checkAndCompile(root, examples, LIB_INDEX_JS);
  });

  it('finds the examples, one per main entry point at least', () => {
    expect(examples.length).to.be.greaterThan(40);
  });

  it('type-check against the package (strict, `from "bptt"`)', () => {
    expect(checked.errors, checked.errors.join('\n')).to.deep.equal([]);
  });

  examples.forEach((e, i) => {
    it(`runs the example at ${e.where}`, async function () {
      this.timeout(60000);
      const mod = require(checked.files[i]) as { example(): Promise<void> };
      await mod.example();
    });
  });
});

describe('doc comment example extraction (spec/reference/examples.ts)', () => {
  it('moves leading imports out of the wrapped body and keeps the rest', () => {
    const m = exampleModule("import { lstm } from 'bptt';\nimport assert from 'node:assert/strict';\nconst a = 1;");
    expect(m).to.match(/^import \{ lstm \} from 'bptt';\nimport assert from 'node:assert\/strict';\nexport async/);
    expect(m).to.match(/\{\s*const a = 1;\n\}/);
  });
});

/** The exported classes and functions (namespace members included), each with what its doc comment lacks. */
function undocumented(): string[] {
  const index = path.join(root, 'lib', 'index.ts');
  const program = ts.createProgram([index], {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    types: ['node'],
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const problems: string[] = [];
  const hasDoc = (d: ts.Node): boolean => ts.getJSDocCommentsAndTags(d).some((j) => ts.isJSDoc(j));
  const hasSummary = (s: ts.Symbol): boolean => ts.displayPartsToString(s.getDocumentationComment(checker)) !== '';
  const checkParams = (d: ts.SignatureDeclaration, name: string): void => {
    if (!hasDoc(d)) return; // an undocumented overload implementation or override is reported through its symbol
    for (const p of d.parameters) {
      const tags = ts.getJSDocParameterTags(p);
      if (tags.length === 0) problems.push(`${name}: no @param for '${p.name.getText()}'`);
    }
    if (ts.isConstructorDeclaration(d)) return;
    const sig = checker.getSignatureFromDeclaration(d);
    const returns = sig === undefined ? undefined : checker.getReturnTypeOfSignature(sig);
    const nothing = returns === undefined || (returns.flags & (ts.TypeFlags.Void | ts.TypeFlags.Undefined)) !== 0;
    if (!nothing && ts.getJSDocReturnTag(d) === undefined) problems.push(`${name}: no @returns`);
  };
  const visit = (s: ts.Symbol, name: string): void => {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    const decls = target.declarations ?? [];
    if (target.flags & ts.SymbolFlags.ValueModule) {
      for (const m of checker.getExportsOfModule(target)) visit(m, `${name}.`.replace(/^\./, '') + m.name);
      return;
    }
    if (target.flags & ts.SymbolFlags.Function) {
      if (!hasSummary(target)) problems.push(`${name}: no doc comment`);
      for (const d of decls) if (ts.isFunctionDeclaration(d)) checkParams(d, name);
    }
    if (target.flags & ts.SymbolFlags.Class) {
      if (!hasSummary(target)) problems.push(`${name}: no doc comment`);
      for (const d of decls) {
        if (!ts.isClassDeclaration(d)) continue;
        for (const m of d.members) {
          const mods = ts.getCombinedModifierFlags(m);
          if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
          if (m.name !== undefined && ts.isPrivateIdentifier(m.name)) continue;
          if (!ts.isMethodDeclaration(m) && !ts.isConstructorDeclaration(m)) continue;
          // @internal members are left out of the reference (typedoc.json excludeInternal).
          if (ts.getJSDocTags(m).some((t) => t.tagName.text === 'internal')) continue;
          const member = `${name}.${ts.isConstructorDeclaration(m) ? 'constructor' : m.name.getText()}`;
          // An overload's implementation shows its overloads' comments; an override (or an abstract method's
          // implementation) without its own comment shows the base's, as TypeDoc inherits it; a constructor without
          // parameters needs none.
          const isOverloadImpl =
            m.body !== undefined &&
            d.members.some((o) => o !== m && o.kind === m.kind && o.name?.getText() === m.name?.getText());
          const inBase = (): boolean =>
            checker
              .getTypeAtLocation(d)
              .getBaseTypes()
              ?.some((b) => b.getProperty(m.name?.getText() ?? '') !== undefined) === true;
          const excused =
            isOverloadImpl ||
            (!ts.isConstructorDeclaration(m) && inBase()) ||
            mods & ts.ModifierFlags.Override ||
            (ts.isConstructorDeclaration(m) && m.parameters.length === 0);
          if (!hasDoc(m) && !excused) problems.push(`${member}: no doc comment`);
          checkParams(m, member);
        }
      }
    }
  };
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
  for (const s of checker.getExportsOfModule(moduleSymbol)) visit(s, s.name);
  return problems;
}

describe('doc comments on the package surface (lib/index.ts)', () => {
  it('every exported class, public method and function has a doc comment, @param per parameter, @returns', function () {
    this.timeout(120000);
    const problems = undocumented();
    expect(problems, problems.join('\n')).to.deep.equal([]);
  });
});
