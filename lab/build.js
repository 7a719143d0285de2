#!/usr/bin/env node
'use strict';
/**
 * Builds the BPTT lab into ONE self-contained HTML file (no network, no CDN): the worker (lab/worker.ts with the reference
 * kernels and the Detector) is bundled first and inlined into the page's script as a string, started from a Blob URL;
 * the page's script and lab/style.css are inlined into lab/index.html. The equations shown next to the views are cut
 * from the doc comments of kernels/{rnn,lstm,gru}.ts here, so the page shows exactly the headers' text.
 *
 *   node lab/build.js [out.html]        (npm run lab; default docs/lab/index.html, which git ignores: build it to open it)
 *
 * Also builds the "train in a Web Worker" recipe page (lab/recipe/) for spec/browser/recipe.spec.ts: buildRecipe(dir).
 */
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const ROOT = path.join(__dirname, '..');

/** Modules made at build time: `lab:worker-source` and `lab:equations` (declared in lab/virtual.d.ts). */
function virtualModules(modules) {
  return {
    name: 'lab-virtual',
    setup(build) {
      build.onResolve({ filter: /^lab:/ }, (args) => ({ path: args.path, namespace: 'lab-virtual' }));
      build.onLoad({ filter: /.*/, namespace: 'lab-virtual' }, (args) => {
        if (!(args.path in modules)) throw new Error(`lab build: no virtual module ${args.path}`);
        return { contents: modules[args.path], loader: 'js' };
      });
    },
  };
}

/**
 * The forward and backward equations of a reference cell: the doc-comment lines of kernels/<cell>.ts from the one
 * starting "Forward" up to (not including) the first of "Repeated input", "Every derivative", "Names in the code",
 * "Conventions"; split at the line starting "Backward". Throws when the header does not have that shape.
 */
function equations(cell) {
  const file = path.join(ROOT, 'kernels', `${cell}.ts`);
  const text = fs.readFileSync(file, 'utf8');
  const end = text.indexOf('*/');
  const lines = text
    .slice(0, end)
    .split('\n')
    .map((l) => l.replace(/^\s*\/?\*\*?\s?/, ''));
  const from = lines.findIndex((l) => /^Forward\b/.test(l));
  const back = lines.findIndex((l, i) => i > from && /^Backward\b/.test(l));
  const to = lines.findIndex(
    (l, i) => i > back && /^(Repeated input|Every derivative|Names in the code|Conventions)/.test(l),
  );
  if (from < 0 || back < 0 || to < 0) {
    throw new Error(
      `lab build: ${file}: expected header lines starting Forward, Backward, then Repeated input or the like`,
    );
  }
  const trim = (ls) => ls.join('\n').replace(/\s+$/, '');
  return { forward: trim(lines.slice(from, back)), backward: trim(lines.slice(back, to)) };
}

const COMMON = {
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  minify: true,
  write: false,
  legalComments: 'none',
  logLevel: 'silent',
  charset: 'utf8',
};

function writeAtomic(file, data) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

function inlineSafe(js, what) {
  if (/<\/script/i.test(js)) throw new Error(`lab build: ${what} contains "</script" and cannot be inlined`);
  return js;
}

/** Builds the lab page into `outFile`; returns its path and size in bytes. */
async function buildLab(outFile = path.join(ROOT, 'docs', 'lab', 'index.html')) {
  const worker = await esbuild.build({
    ...COMMON,
    entryPoints: [path.join(__dirname, 'worker.ts')],
    format: 'iife',
  });
  const eq = { rnn: equations('rnn'), lstm: equations('lstm'), gru: equations('gru') };
  const page = await esbuild.build({
    ...COMMON,
    entryPoints: [path.join(__dirname, 'main.ts')],
    format: 'iife',
    plugins: [
      virtualModules({
        'lab:worker-source': `export default ${JSON.stringify(worker.outputFiles[0].text)};`,
        'lab:equations': `export const EQUATIONS = ${JSON.stringify(eq)};`,
      }),
    ],
  });
  const template = fs.readFileSync(path.join(__dirname, 'index.html'), 'utf8');
  const css = fs.readFileSync(path.join(__dirname, 'style.css'), 'utf8');
  const js = inlineSafe(page.outputFiles[0].text, 'the page script');
  for (const marker of ['/* LAB_STYLE */', '/* LAB_SCRIPT */']) {
    if (!template.includes(marker)) throw new Error(`lab build: lab/index.html lacks the marker ${marker}`);
  }
  const html = template.replace('/* LAB_STYLE */', () => css).replace('/* LAB_SCRIPT */', () => js);
  writeAtomic(outFile, html);
  return { file: outFile, bytes: Buffer.byteLength(html), workerBytes: worker.outputFiles[0].contents.length };
}

/**
 * Builds the "train in a Web Worker" recipe (lab/recipe/page.ts and worker.ts, each importing the library) into dir:
 * index.html, page.js, worker.js. The page starts `new Worker('worker.js')`, so serve dir over http.
 */
async function buildRecipe(dir) {
  for (const name of ['page', 'worker']) {
    const r = await esbuild.build({
      ...COMMON,
      entryPoints: [path.join(__dirname, 'recipe', `${name}.ts`)],
      format: 'iife',
    });
    writeAtomic(path.join(dir, `${name}.js`), r.outputFiles[0].contents);
  }
  writeAtomic(
    path.join(dir, 'index.html'),
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>bptt: train in a Web Worker</title>' +
      '<link rel="icon" href="data:,"></head>\n' +
      '<body><pre id="out">running…</pre><script src="page.js"></script></body></html>\n',
  );
  return dir;
}

module.exports = { buildLab, buildRecipe, equations };

if (require.main === module) {
  const out = process.argv[2] !== undefined ? path.resolve(process.argv[2]) : undefined;
  buildLab(out).then(
    (r) => console.log(`lab: wrote ${path.relative(process.cwd(), r.file)} (${(r.bytes / 1024).toFixed(0)} kB)`),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
