/**
 * The `@example` blocks of the sources (lib/, kernels/): found in the doc comments, type-checked against the package as
 * a Node user's file would be (`import { … } from 'bptt'` resolves to lib/node/index.ts, the Node entry that exports
 * lib/index.ts's surface) and run, each as the body of an async
 * function (so an example may `await`). spec/reference/examples.spec.ts runs them; an example shows its result by
 * asserting it (`assert.equal(…)` from 'node:assert/strict'), so a wrong result fails the spec, not only a throw.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

export interface Example {
  /** Repo-relative file and the line of the opening fence, for messages: 'lib/detect/detector.ts:120'. */
  where: string;
  /** The code between the ```ts fences, comment stars removed. */
  code: string;
}

const FENCE = '```';

function walk(dir: string, out: string[]): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
}

/**
 * Every ```ts block of an `@example` in the doc comments under `folders`. A ```text block is shown, not run (for an
 * internal module that a user cannot import); an `@example` with neither is an error, and so is an unclosed fence.
 */
export function collectExamples(root: string, folders: readonly string[]): Example[] {
  const files: string[] = [];
  for (const f of folders) walk(path.join(root, f), files);
  const out: Example[] = [];
  for (const abs of files.sort()) {
    const file = path.relative(root, abs).split(path.sep).join('/');
    const text = fs.readFileSync(abs, 'utf8');
    for (const m of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
      const startLine = text.slice(0, m.index).split('\n').length;
      const lines = m[0].split('\n').map((l) => l.replace(/^\s*\/?\*\*?\/?\s?/, '').replace(/\s*\*\/$/, ''));
      let inExample = false;
      let fence: { line: number; body: string[]; run: boolean } | null = null;
      let fencesInExample = 0;
      let exampleLine = 0;
      const endExample = (): void => {
        if (inExample && fencesInExample === 0)
          throw new Error(`${file}:${exampleLine}: @example without a ${FENCE}ts (or ${FENCE}text) fence`);
        inExample = false;
      };
      lines.forEach((line, i) => {
        const lineNo = startLine + i;
        if (fence !== null) {
          if (/^```\s*$/.test(line)) {
            if (inExample && fence.run) out.push({ where: `${file}:${fence.line}`, code: fence.body.join('\n') });
            fence = null;
          } else fence.body.push(line);
          return;
        }
        if (/^```/.test(line)) {
          if (inExample && !/^```(ts|text)\s*$/.test(line))
            throw new Error(
              `${file}:${lineNo}: an @example's fence must be ${FENCE}ts (run) or ${FENCE}text, got ${line}`,
            );
          fence = { line: lineNo, body: [], run: /^```ts/.test(line) };
          if (inExample) fencesInExample++;
          return;
        }
        if (/^@\w+/.test(line)) {
          endExample();
          if (line.startsWith('@example')) {
            inExample = true;
            fencesInExample = 0;
            exampleLine = lineNo;
          }
        }
      });
      if (fence !== null) throw new Error(`${file}:${(fence as { line: number }).line}: unclosed fence`);
      endExample();
    }
  }
  return out;
}

/** An example as a module: its leading imports, then the rest as the body of `export async function example()`. */
export function exampleModule(code: string): string {
  let rest = code;
  const imports: string[] = [];
  for (;;) {
    const m = /^\s*(import\s[\s\S]*?from\s+['"][^'"]+['"];?)/.exec(rest);
    if (m === null) break;
    imports.push(m[1]);
    rest = rest.slice(m[0].length);
  }
  return `${imports.join('\n')}\nexport async function example(): Promise<void> {\n${rest}\n}\n`;
}

/** Lines of the wrapper before the example's body, so a diagnostic's line maps back to the comment. */
function bodyOffset(code: string): number {
  const module = exampleModule(code);
  return module.slice(0, module.indexOf('export async function example')).split('\n').length;
}

export interface Checked {
  /** One message per type error, `where` first. */
  errors: string[];
  /** The examples as CommonJS files in a temp dir, in the order given: require one and await its `example()`. */
  files: string[];
}

/**
 * Type-checks the examples together (strict, the repo's compiler options, 'bptt' mapped to lib/node/index.ts) and writes
 * each, compiled to CommonJS with 'bptt' pointing at the compiled package `libIndexJs`, into a new temp dir.
 */
export function checkAndCompile(root: string, examples: readonly Example[], libIndexJs: string): Checked {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-examples-'));
  const sources = examples.map((e, i) => {
    const file = path.join(dir, `example${i}.ts`);
    fs.writeFileSync(file, exampleModule(e.code));
    return file;
  });
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    strict: true,
    exactOptionalPropertyTypes: true,
    noImplicitReturns: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
    typeRoots: [path.join(root, 'node_modules', '@types')],
    baseUrl: root,
    paths: { bptt: ['lib/node/index.ts'] },
  };
  const program = ts.createProgram(sources, options);
  const errors: string[] = [];
  sources.forEach((file, i) => {
    const sf = program.getSourceFile(file)!;
    for (const d of ts.getPreEmitDiagnostics(program, sf)) {
      const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line + 1;
      const at = Number(examples[i].where.split(':')[1]) + line - bodyOffset(examples[i].code) + 1;
      const file = examples[i].where.split(':')[0];
      errors.push(`${file}:${at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
  });
  const files = examples.map((e, i) => {
    const js = ts.transpileModule(exampleModule(e.code), {
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true },
    }).outputText;
    const file = path.join(dir, `example${i}.js`);
    fs.writeFileSync(file, js.replace(/require\((['"])bptt\1\)/g, `require(${JSON.stringify(libIndexJs)})`));
    return file;
  });
  return { errors, files };
}
