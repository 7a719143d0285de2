/**
 * Output of the command line: text written in large chunks to a file or to stdout.
 *
 * A file is written atomically, as lib/node/atomic.ts does for whole buffers but incrementally: the rows go to a temp
 * file beside the target (`.<name>.bptt-<pid>-<random>.tmp`, lib/node/atomic.ts `tempPathFor`), which `finish()` fsyncs
 * and closes and `commit()` renames over the target. `abort()` (on any error) removes the temp file, so the target
 * holds the old contents or the complete new ones, never a part. Opening an output first removes the temp files of the
 * same target left by bptt processes that are no longer alive (a run killed by a signal), so none stays for ever.
 *
 * A command with several outputs opens them all in one `OutputSet` before doing its work (a path that cannot be
 * written fails at once, not after the training) and commits them together: every temp file is finished first, then
 * each is renamed into place; if a rename fails, the targets already replaced get their old contents back (kept as
 * hard links, or copies, until the last rename), so either every output is new or none changed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UserError, fsMessage } from './errors.js';
import { tempPathFor, removeStaleTemps } from '../node/atomic.js';

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
  private closed = false;
  private done = false;

  private constructor(
    readonly target: string | null,
    private fd: number,
    readonly tempPath: string | null,
  ) {}

  /** An output to `target` (atomic) or, for null, to stdout. */
  static open(target: string | null): Output {
    if (target === null) return new Output(null, 1, null);
    const file = resolveTarget(target);
    let fd: number;
    let tmp: string;
    try {
      if (fs.existsSync(file) && fs.statSync(file).isDirectory())
        throw Object.assign(new Error('directory'), { code: 'EISDIR' });
      removeStaleTemps(file);
      tmp = tempPathFor(file);
      fd = fs.openSync(tmp, 'wx', 0o666);
    } catch (e) {
      throw new UserError(fsMessage('write', target, e));
    }
    try {
      const mode = fs.statSync(file).mode & 0o7777;
      fs.fchmodSync(fd, mode);
    } catch {
      /* a new file */
    }
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

  /** Flushes; for a file, fsyncs and closes the temp file (complete on disk, not yet in place). Idempotent. */
  finish(): void {
    if (this.closed) return;
    this.flush();
    if (this.tempPath === null) return;
    try {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.closed = true;
    } catch (e) {
      this.abort();
      throw new UserError(fsMessage('write', this.target as string, e));
    }
  }

  /** Finishes and, for a file, renames the complete temp file over the target. */
  commit(): void {
    this.finish();
    if (this.tempPath !== null && this.target !== null) {
      try {
        fs.renameSync(this.tempPath, resolveTarget(this.target));
      } catch (e) {
        this.abort();
        throw new UserError(fsMessage('write', this.target, e));
      }
      syncDir(this.target);
    }
    this.done = true;
  }

  /** Renamed into place by an OutputSet: nothing left to remove. */
  markCommitted(): void {
    this.done = true;
  }

  /** Drops a file output: the temp file is removed and the target left as it was. Does nothing once committed. */
  abort(): void {
    if (this.done || this.tempPath === null) return;
    if (!this.closed)
      try {
        fs.closeSync(this.fd);
      } catch {
        /* already closed */
      }
    this.closed = true;
    try {
      fs.unlinkSync(this.tempPath);
    } catch {
      /* already renamed or removed */
    }
    this.done = true;
  }

  get finished(): boolean {
    return this.done;
  }
}

/** The output files of one command, committed all together or not at all (see the file comment). */
export class OutputSet {
  private readonly outputs: Output[] = [];
  private settled = false;

  /** Stages an output to `target`; the target is not touched before `commit()`. An unwritable path throws here. */
  open(target: string): Output {
    const out = Output.open(target);
    this.outputs.push(out);
    return out;
  }

  /** Renames every staged output into place; on a failure restores the ones already replaced, and throws. */
  commit(): void {
    if (this.settled) throw new Error('OutputSet.commit: already committed or aborted');
    try {
      for (const o of this.outputs) o.finish();
    } catch (e) {
      this.abort();
      throw e;
    }
    this.settled = true;
    // Keep each existing target under a temp name until every rename has succeeded, to put it back on a failure.
    const files = this.outputs.map((o) => resolveTarget(o.target as string));
    const kept: Array<string | null> = files.map(() => null);
    const replaced: number[] = [];
    let at = 0;
    try {
      for (at = 0; at < files.length; at++) kept[at] = keep(files[at]);
      for (at = 0; at < files.length; at++) {
        fs.renameSync(this.outputs[at].tempPath as string, files[at]);
        replaced.push(at);
      }
      for (const o of this.outputs) o.markCommitted();
    } catch (e) {
      for (const i of replaced) {
        const old = kept[i];
        try {
          if (old !== null && old !== undefined) fs.renameSync(old, files[i]);
          else fs.unlinkSync(files[i]);
        } catch {
          /* nothing more can be done: the message below names the output */
        }
      }
      for (const old of kept)
        if (old !== null)
          try {
            fs.unlinkSync(old);
          } catch {
            /* already renamed back */
          }
      for (const o of this.outputs) o.abort();
      throw new UserError(`${fsMessage('write', this.outputs[at]?.target ?? '?', e)}; no output was changed`);
    }
    for (const old of kept)
      if (old !== null)
        try {
          fs.unlinkSync(old);
        } catch {
          /* a stale temp file, cleaned by the next run */
        }
    for (const o of this.outputs) syncDir(o.target as string);
  }

  /** Removes every staged temp file; the targets stay as they were. Safe to call after commit (does nothing). */
  abort(): void {
    if (this.settled) return;
    this.settled = true;
    for (const o of this.outputs) o.abort();
  }
}

/** A second name (hard link, else a copy) for an existing target, so it can be put back; null for a new target. */
function keep(file: string): string | null {
  if (!fs.existsSync(file)) return null;
  const tmp = tempPathFor(file);
  try {
    fs.linkSync(file, tmp);
  } catch {
    fs.copyFileSync(file, tmp, fs.constants.COPYFILE_EXCL);
  }
  return tmp;
}

function syncDir(target: string): void {
  try {
    const dfd = fs.openSync(path.dirname(resolveTarget(target)), 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    /* platforms that cannot fsync a directory */
  }
}

function resolveTarget(target: string): string {
  try {
    return fs.realpathSync(target);
  } catch {
    return path.resolve(target);
  }
}
