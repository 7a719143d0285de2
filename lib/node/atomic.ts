/**
 * Atomic file replacement: a reader of `path` sees the old contents or the new ones, never a mix or a truncated file,
 * and a crash or error part way leaves the old file in place.
 *
 *   1. write the data to a temp file in the same directory (same filesystem, so step 3 is a rename, not a copy):
 *      `.<name>.bptt-<pid>-<12 random hex>.tmp` (`tempPathFor`), created exclusively ('wx'), given the target's mode
 *      when the target exists;
 *   2. fsync the temp file, so its bytes are on disk before its name is;
 *   3. rename it over the target (atomic on POSIX; on Windows node uses MoveFileEx with REPLACE_EXISTING);
 *   4. fsync the directory so the rename itself is durable (skipped where a directory cannot be opened, e.g. Windows).
 * Any error before the rename removes the temp file and rethrows; the target is untouched.
 *
 * A symlinked target is followed: the file it points to is replaced and the link stays a link.
 * Concurrent writers each rename a complete file; the last rename wins.
 *
 * Stale temp files. A process killed between steps 1 and 3 (SIGKILL, power loss) leaves its temp file behind. The name
 * says whose it is: before writing, `removeStaleTemps(target)` deletes the temp files of the same target whose pid is
 * no longer a live process (and the older `.<name>.<pid>.<hex>.tmp` form). A live pid's temp file (a concurrent writer,
 * this process's own) is left alone. Pids are those of this machine's (container's) process table: a writer in
 * another pid namespace sharing the directory looks dead from here.
 *
 * @example
 * ```text
 * writeFileAtomicSync('model.json', JSON.stringify(config));
 * await writeFileAtomic('weights.safetensors', bytes);
 * ```
 */
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { ArgumentError } from '../errors.js';

/** Writes `data` to `target` atomically (see the file comment). Strings are written as UTF-8. */
export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  checkData(target, data);
  const file = resolveTarget(target);
  removeStaleTemps(file);
  const tmp = tempPathFor(file);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx', 0o666);
    const mode = existingMode(file);
    if (mode !== null) fs.fchmodSync(fd, mode);
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== null)
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing: keep the first error */
      }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* never created, or already renamed */
    }
    throw err;
  }
  syncDirSync(path.dirname(file));
}

/** Promise form of `writeFileAtomicSync`, same steps and guarantees (the stale-temp clean-up, one listing, is synchronous). */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  checkData(target, data);
  const file = await resolveTargetAsync(target);
  removeStaleTemps(file);
  const tmp = tempPathFor(file);
  let fh: fs.promises.FileHandle | null = null;
  try {
    fh = await fs.promises.open(tmp, 'wx', 0o666);
    const mode = await existingModeAsync(file);
    if (mode !== null) await fh.chmod(mode);
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = null;
    await fs.promises.rename(tmp, file);
  } catch (err) {
    if (fh !== null) await fh.close().catch(() => undefined);
    await fs.promises.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(path.dirname(file));
}

// ---------------------------------------------------------------------------------------------------------------------

function checkData(target: string, data: unknown): void {
  if (typeof target !== 'string' || target === '') {
    throw ArgumentError.problem('writeFileAtomic', `path must be a non-empty string, got ${typeof target}`);
  }
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw ArgumentError.problem(
      `writeFileAtomic(${target})`,
      `data must be a string or a Uint8Array, got ${typeof data}`,
    );
  }
}

/** A fresh temp path beside `file`: `<dir>/.<name>.bptt-<pid>-<12 random hex>.tmp`. */
export function tempPathFor(file: string): string {
  return path.join(
    path.dirname(file),
    `.${path.basename(file)}.bptt-${process.pid}-${randomBytes(6).toString('hex')}.tmp`,
  );
}

const TEMP_NAME = /^\.(.+)\.bptt-(\d+)-[0-9a-f]{12}\.tmp$/;
/** The name temp files had before the `bptt-` tag: `.<name>.<pid>.<12 hex>.tmp`. */
const OLD_TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** For a bptt temp file's base name, the base name of its target and the pid that wrote it; else null. */
export function parseTempName(name: string): { target: string; pid: number } | null {
  const m = TEMP_NAME.exec(name) ?? OLD_TEMP_NAME.exec(name);
  return m === null ? null : { target: m[1], pid: Number(m[2]) };
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the temp files that bptt processes no longer alive left beside `file` (see the file comment); returns their
 * paths. Other processes' live temp files and this process's own are kept. A directory that cannot be listed, or a
 * temp file that cannot be removed, is skipped: cleaning up is never a reason for a write to fail.
 */
export function removeStaleTemps(file: string): string[] {
  const dir = path.dirname(file),
    base = path.basename(file);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const t = parseTempName(name);
    if (t === null || t.target !== base || t.pid === process.pid || processAlive(t.pid)) continue;
    const p = path.join(dir, name);
    try {
      if (!fs.lstatSync(p).isFile()) continue;
      fs.unlinkSync(p);
      removed.push(p);
    } catch {
      /* removed by another cleaner meanwhile, or not ours to remove */
    }
  }
  return removed;
}

/** The real path of the target if it exists (so a symlink is followed, not replaced), else the absolute path. */
function resolveTarget(target: string): string {
  try {
    return fs.realpathSync(target);
  } catch {
    return path.resolve(target);
  }
}

async function resolveTargetAsync(target: string): Promise<string> {
  try {
    return await fs.promises.realpath(target);
  } catch {
    return path.resolve(target);
  }
}

function existingMode(file: string): number | null {
  try {
    return fs.statSync(file).mode & 0o7777;
  } catch {
    return null;
  }
}

async function existingModeAsync(file: string): Promise<number | null> {
  try {
    return (await fs.promises.stat(file)).mode & 0o7777;
  } catch {
    return null;
  }
}

/** fsync a directory so a rename inside it is durable; platforms that cannot open a directory skip this. */
function syncDirSync(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* EISDIR / EPERM / EINVAL on Windows and some filesystems: the data is already renamed into place */
  } finally {
    if (fd !== null)
      try {
        fs.closeSync(fd);
      } catch {
        /* ignore */
      }
  }
}

async function syncDir(dir: string): Promise<void> {
  let fh: fs.promises.FileHandle | null = null;
  try {
    fh = await fs.promises.open(dir, 'r');
    await fh.sync();
  } catch {
    /* as in syncDirSync */
  } finally {
    if (fh !== null) await fh.close().catch(() => undefined);
  }
}
