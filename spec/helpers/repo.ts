/**
 * Where the specs find the repository and how they run the command line, for every spec that needs them (from the
 * sources or any compiled out dir).
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** The repository root: the nearest ancestor of this file holding bptt's package.json. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'bptt')
      return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`spec helpers: could not find the bptt repository root above ${__dirname}`);
    dir = up;
  }
}

/** The compiled CLI of the out dir these specs were compiled into (dist/ or a private one). */
export const CLI_MAIN = path.resolve(__dirname, '../../lib/cli/main.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <CLI_MAIN> ...args` as a child process. */
export function runCli(args: string[], opts: { cwd?: string; node?: string[] } = {}): Run {
  const r = spawnSync(process.execPath, [...(opts.node ?? []), CLI_MAIN, ...args], {
    encoding: 'utf8',
    cwd: opts.cwd ?? repoRoot(),
    timeout: 120000,
    maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A user mistake: exit 1, a `bptt: …` message matching `re`, no stack trace. */
export function expectUserError(r: Run, re: RegExp): void {
  expect(r.code, `exit code; stderr: ${r.stderr}`).to.equal(1);
  expect(r.stderr).to.match(/^bptt: /m);
  expect(r.stderr).to.match(re);
  expect(r.stderr).not.to.match(/\n\s+at /);
}
