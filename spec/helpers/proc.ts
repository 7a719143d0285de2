/**
 * Child processes for the end-to-end specs (spec/watch-e2e, spec/fleet-e2e): a process with its log lines and waits
 * for a line, a free loopback port, `which`, a skip off npm test's default path; and the environment of a child that
 * loads the core without the Node entry.
 */
import { spawnSync, type ChildProcess } from 'child_process';
import * as net from 'net';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * This process's environment for a child that loads the core (lib/index.js, lib/backend.js) without the Node entry,
 * with `extra` on top: without BPTT_WASM_KERNEL, since only the Node entry can turn on relaxed SIMD for
 * 'relaxed-fma' on Node 20 (npm test's relaxed path sets it; the core alone would rightly refuse it there).
 */
export function coreEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env['BPTT_WASM_KERNEL'];
  return env;
}

/**
 * Skips the suite (visibly) off npm test's default path: for end-to-end suites that spawn processes for minutes and
 * do no matrix products another path would test. Call from a `before` hook with its `this`.
 */
export function defaultPathOnly(ctx: Mocha.Context, why: string): void {
  const backend = process.env['BPTT_BACKEND'];
  const kernel = process.env['BPTT_WASM_KERNEL'];
  const set = (v: string | undefined): v is string => v !== undefined && v !== '' && v !== 'auto';
  if (!set(backend) && !set(kernel)) return;
  const name = set(kernel) ? kernel : backend;
  console.log(`      (skipped on the ${name} path: this suite runs once, on the default path; ${why})`);
  ctx.skip();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A child process whose stdout and stderr lines are kept, with waits for a line matching a pattern. */
export class Proc {
  readonly lines: string[] = [];
  private waiters: Array<{ re: RegExp; from: number; resolve: (m: RegExpExecArray) => void }> = [];
  exit: { code: number | null; signal: string | null } | null = null;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    let buf = '';
    const onData = (d: Buffer): void => {
      buf += d.toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        this.check();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      }),
    );
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      for (let i = w.from; i < this.lines.length; i++) {
        const m = w.re.exec(this.lines[i]);
        if (m) {
          w.resolve(m);
          return false;
        }
      }
      return true;
    });
  }

  /** The first line from index `from` on that matches; fails after `ms` with the log. */
  waitFor(re: RegExp, ms: number, from = 0): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.name}: no line matching ${re} within ${ms} ms; log:\n${this.lines.join('\n')}`)),
        ms,
      );
      this.waiters.push({
        re,
        from,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
      this.check();
    });
  }

  /** SIGTERM (then SIGKILL after `ms`); resolves when the process has exited. */
  async stop(ms = 20_000): Promise<void> {
    if (this.exit) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), ms);
    await this.exited;
    clearTimeout(t);
  }

  kill9(): Promise<void> {
    if (!this.exit) this.child.kill('SIGKILL');
    return this.exited;
  }

  wait(): Promise<void> {
    return this.exited;
  }
}
