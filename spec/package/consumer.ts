/**
 * A fresh consumer project with the packed package installed, as a user gets it: `npm pack` of the repository, then
 * `npm install <tarball>` into an empty project (offline first: the npm cache holds the three runtime dependencies
 * after the repository's own `npm ci`).
 *
 * Packing once per run: the pack is made from a copy of the package's files (lib, kernels, bin, the build script and
 * tsconfigs, README, LICENSE, CHANGELOG; node_modules linked for typescript), so the build it runs (`prepack`) never
 * rewrites the dist/ these specs run from. The result is cached by a hash of those files' contents, so `npm test`'s
 * second mocha run (the js path) reuses the first one's tarball and install.
 *
 * The project lives in a directory none of whose parents holds a node_modules (a stray /tmp/node_modules would lend the
 * consumer packages, e.g. @types/ndarray, that a user does not have).
 *
 *   const c = consumer();                        // { dir, tarball, files, installLog }
 *   c.write('src/x.ts', '…');  run(c, 'node', ['x.js'])
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot } from '../helpers/repo';

export interface Consumer {
  /** The consumer project (package.json, node_modules/bptt installed from the tarball). */
  dir: string;
  /** The packed tarball. */
  tarball: string;
  /** The files in the tarball, relative to the package root ('dist/lib/node/index.js'). */
  files: string[];
  /** What `npm install <tarball>` printed (stdout and stderr). */
  installLog: string;
  /** Writes a file of the consumer project (directories created); returns its path. */
  write(rel: string, text: string): string;
}

/** The package's own files: what the tarball is built from. */
const SOURCES = [
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'tsconfig.esm.json',
  'scripts/build.js',
  'bin',
  'lib',
  'kernels',
  'README.md',
  'LICENSE',
  'CHANGELOG.md',
];

function walk(p: string, out: string[]): void {
  if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e), out);
  else out.push(p);
}

/** A hash of the contents of every source file of the package. */
function sourceHash(root: string): string {
  const h = createHash('sha256');
  const files: string[] = [];
  for (const s of SOURCES) if (fs.existsSync(path.join(root, s))) walk(path.join(root, s), files);
  for (const f of files) {
    h.update(path.relative(root, f));
    h.update('\0');
    h.update(fs.readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

/** A base directory for the consumer whose ancestors hold no node_modules. */
function isolatedBase(): string {
  const candidates = [process.env['BPTT_CONSUMER_DIR'], os.tmpdir(), '/var/tmp'].filter(
    (d): d is string => d !== undefined && d !== '' && fs.existsSync(d),
  );
  for (const c of candidates) {
    let d = path.resolve(c),
      clean = true;
    for (;;) {
      if (fs.existsSync(path.join(d, 'node_modules'))) clean = false;
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
    if (clean) return c;
  }
  throw new Error(
    `package spec: every candidate directory (${candidates.join(', ')}) has a node_modules above it, which would ` +
      'lend the consumer packages a user does not have; set BPTT_CONSUMER_DIR to a directory without one',
  );
}

/** Runs a command; throws with its output when it fails. */
export function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600000 });
  if (r.error) throw r.error;
  const out = `${r.stdout}${r.stderr}`;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${out}`);
  return out;
}

/** Runs the repository's tsc (node_modules/typescript) in `cwd`; returns { code, output }. */
export function tsc(args: string[], cwd: string): { code: number | null; output: string } {
  const bin = require.resolve('typescript/bin/tsc', { paths: [repoRoot()] });
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', maxBuffer: 16 << 20 });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

function npm(): string {
  return process.platform === 'win32' ? 'npm.cmd' : 'npm';
}

let cached: Consumer | null = null;

/** The consumer project for the current sources: made (pack, install) on first use, then reused. */
export function consumer(): Consumer {
  if (cached !== null) return cached;
  const root = repoRoot();
  const base = isolatedBase();
  const dir = path.join(base, `bptt-package-${sourceHash(root)}`);
  if (!fs.existsSync(path.join(dir, 'ready.json'))) {
    // Packs of other source states: removed once a day old (a younger one may be another checkout's, in use).
    for (const old of fs.readdirSync(base).filter((n) => n.startsWith('bptt-package-'))) {
      const p = path.join(base, old);
      if (Date.now() - fs.statSync(p).mtimeMs > 86_400_000) fs.rmSync(p, { recursive: true, force: true });
    }
    const stage = `${dir}.tmp-${process.pid}`;
    fs.rmSync(stage, { recursive: true, force: true });
    const src = path.join(stage, 'src');
    for (const s of SOURCES)
      if (fs.existsSync(path.join(root, s))) fs.cpSync(path.join(root, s), path.join(src, s), { recursive: true });
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(src, 'node_modules'), 'dir');
    const packDir = path.join(stage, 'pack');
    fs.mkdirSync(packDir);
    run(npm(), ['pack', '--pack-destination', packDir, '--silent'], src);
    const [tgz] = fs.readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    if (tgz === undefined) throw new Error(`package spec: npm pack wrote no tarball in ${packDir}`);
    const files = run('tar', ['-tzf', path.join(packDir, tgz)], stage)
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.replace(/^package\//, ''));
    const project = path.join(stage, 'consumer');
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'bptt-consumer', version: '1.0.0', private: true }, null, 2),
    );
    // --prefer-offline: the cache (filled by the repository's npm ci) serves ndarray, ndarray-ops and seedrandom.
    const installLog = run(
      npm(),
      ['install', path.join(packDir, tgz), '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'],
      project,
    );
    fs.rmSync(src, { recursive: true, force: true });
    fs.writeFileSync(
      path.join(stage, 'ready.json'),
      JSON.stringify({ tarball: path.join(dir, 'pack', tgz), files, installLog }, null, 1),
    );
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(stage, dir);
  }
  const ready = JSON.parse(fs.readFileSync(path.join(dir, 'ready.json'), 'utf8')) as {
    tarball: string;
    files: string[];
    installLog: string;
  };
  const project = path.join(dir, 'consumer');
  cached = {
    dir: project,
    ...ready,
    write(rel: string, text: string): string {
      const p = path.join(project, rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, text);
      return p;
    },
  };
  return cached;
}
