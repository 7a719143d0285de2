/**
 * Output of the command line: text written in large chunks to a file or to stdout.
 *
 * A file is written atomically, as lib/io/atomic.ts does for whole buffers but incrementally: the rows go to a temp
 * file beside the target (`.<name>.<pid>.<random>.tmp`), which is fsynced and renamed over the target by `commit()`.
 * `abort()` (on any error) removes the temp file, so the target holds the old contents or the complete new ones, never a
 * part. A run killed by a signal can leave the temp file behind, never a half-written target.
 */
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { UserError, fsMessage } from './errors';

const FLUSH_AT = 1 << 18;

/** The reader of stdout went away (`bptt detect x.csv | head`): the command stops quietly. */
export class BrokenPipe extends Error {
  constructor() {
    super('output closed early (broken pipe)');
    this.name = 'BrokenPipe';
  }
}

/** Writes all of `data` to `fd`, waiting out EAGAIN on non-blocking pipes; EPIPE throws BrokenPipe. */
export function writeAllSync(fd: number, data: string): void {
  let buf = Buffer.from(data, 'utf8');
  while (buf.length > 0) {
    try {
      const n = fs.writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') throw new BrokenPipe();
      if (code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}

export class Output {
  private parts: string[] = [];
  private size = 0;
  private done = false;

  private constructor(readonly target: string | null, private fd: number, private readonly tmp: string | null) {}

  /** An output to `target` (atomic) or, for null, to stdout. */
  static open(target: string | null): Output {
    if (target === null) return new Output(null, 1, null);
    const file = resolveTarget(target);
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    let fd: number;
    try {
      if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
      fd = fs.openSync(tmp, 'wx', 0o666);
    } catch (e) {
      throw new UserError(fsMessage('write', target, e));
    }
    try {
      const mode = fs.statSync(file).mode & 0o7777;
      fs.fchmodSync(fd, mode);
    } catch { /* a new file */ }
    return new Output(target, fd, tmp);
  }

  write(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= FLUSH_AT) this.flush();
  }

  private flush(): void {
    if (this.parts.length === 0) return;
    const data = this.parts.join('');
    this.parts = [];
    this.size = 0;
    try {
      writeAllSync(this.fd, data);
    } catch (e) {
      if (e instanceof BrokenPipe) throw e;
      throw new UserError(fsMessage('write', this.target ?? 'stdout', e));
    }
  }

  /** Flushes and, for a file, renames the complete temp file over the target. */
  commit(): void {
    this.flush();
    this.done = true;
    if (this.tmp === null || this.target === null) return;
    try {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      fs.renameSync(this.tmp, resolveTarget(this.target));
    } catch (e) {
      this.abort();
      throw new UserError(fsMessage('write', this.target, e));
    }
    try {
      const dfd = fs.openSync(path.dirname(resolveTarget(this.target)), 'r');
      try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
    } catch { /* platforms that cannot fsync a directory */ }
  }

  /** Drops a file output: the temp file is removed and the target left as it was. */
  abort(): void {
    if (this.tmp === null) return;
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
    try { fs.unlinkSync(this.tmp); } catch { /* already renamed or removed */ }
    this.done = true;
  }

  get finished(): boolean {
    return this.done;
  }
}

function resolveTarget(target: string): string {
  try {
    return fs.realpathSync(target);
  } catch {
    return path.resolve(target);
  }
}
