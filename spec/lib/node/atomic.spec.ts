import { expect } from 'chai';
import fs = require('fs');
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import {
  writeFileAtomic,
  writeFileAtomicSync,
  removeStaleTemps,
  parseTempName,
  tempPathFor,
  processAlive,
} from '../../../lib/node/atomic';
import { ArgumentError } from '../../../lib/errors';

/** Replaces fs[name] (the module object lib/node/atomic.ts calls through) until the returned restore() is called. */
function patch(target: object, name: string, impl: unknown): () => void {
  const obj = target as Record<string, unknown>;
  const original = obj[name];
  obj[name] = impl;
  return () => {
    obj[name] = original;
  };
}

function failing(code: string): () => never {
  return () => {
    throw Object.assign(new Error(`injected ${code}`), { code });
  };
}

describe('lib/node/atomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-atomic-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const entries = (): string[] => fs.readdirSync(dir).sort();

  for (const [label, write] of [
    ['writeFileAtomicSync', async (p: string, d: string | Uint8Array) => writeFileAtomicSync(p, d)],
    ['writeFileAtomic', writeFileAtomic],
  ] as const) {
    describe(label, () => {
      it('writes strings (UTF-8) and bytes, creating or replacing the target, and leaves no temp file', async () => {
        const p = path.join(dir, 'model.json');
        await write(p, '{"a": "é"}');
        expect(fs.readFileSync(p, 'utf8')).to.equal('{"a": "é"}');
        const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);
        await write(p, bytes);
        expect(new Uint8Array(fs.readFileSync(p))).to.deep.equal(bytes);
        await write(p, '');
        expect(fs.readFileSync(p, 'utf8')).to.equal('');
        expect(entries()).to.deep.equal(['model.json']);
      });

      it('a missing directory fails and creates nothing', async () => {
        const p = path.join(dir, 'nope', 'model.json');
        let err: unknown = null;
        try {
          await write(p, 'x');
        } catch (e) {
          err = e;
        }
        expect((err as NodeJS.ErrnoException).code).to.equal('ENOENT');
        expect(entries()).to.deep.equal([]);
      });

      it('rejects data that is neither a string nor a Uint8Array before touching the disk', async () => {
        const p = path.join(dir, 'model.json');
        fs.writeFileSync(p, 'old');
        let err: unknown = null;
        try {
          await write(p, 42 as unknown as string);
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(ArgumentError);
        expect(fs.readFileSync(p, 'utf8')).to.equal('old');
        expect(entries()).to.deep.equal(['model.json']);
      });

      it('keeps the mode of a file it replaces', async function () {
        if (process.platform === 'win32') this.skip();
        const p = path.join(dir, 'model.json');
        fs.writeFileSync(p, 'old');
        fs.chmodSync(p, 0o640);
        await write(p, 'new');
        expect(fs.statSync(p).mode & 0o777).to.equal(0o640);
      });

      it('follows a symlink: the file it points to is replaced, the link stays', async function () {
        if (process.platform === 'win32') this.skip();
        const real = path.join(dir, 'real.json');
        const link = path.join(dir, 'link.json');
        fs.writeFileSync(real, 'old');
        fs.symlinkSync(real, link);
        await write(link, 'new');
        expect(fs.lstatSync(link).isSymbolicLink()).to.equal(true);
        expect(fs.readFileSync(real, 'utf8')).to.equal('new');
      });

      it('renaming over a directory fails: the temp file is removed and the directory is untouched', async () => {
        const p = path.join(dir, 'model.json');
        fs.mkdirSync(p);
        fs.writeFileSync(path.join(p, 'inside'), 'keep');
        let err: unknown = null;
        try {
          await write(p, 'new');
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(Error);
        expect(entries()).to.deep.equal(['model.json']);
        expect(fs.readFileSync(path.join(p, 'inside'), 'utf8')).to.equal('keep');
      });
    });
  }

  describe('failure part way (injected), previous target intact and no temp file left', () => {
    const old = 'previous complete version';
    let p: string;
    beforeEach(() => {
      p = path.join(dir, 'weights.bin');
      fs.writeFileSync(p, old);
    });

    const cases: [string, object, string][] = [
      ['sync: write fails', fs, 'writeFileSync'],
      ['sync: fsync fails', fs, 'fsyncSync'],
      ['sync: rename fails', fs, 'renameSync'],
    ];
    for (const [label, obj, name] of cases) {
      it(label, () => {
        const restore = patch(obj, name, failing('EIO'));
        try {
          expect(() => writeFileAtomicSync(p, 'new data')).to.throw('injected EIO');
        } finally {
          restore();
        }
        expect(fs.readFileSync(p, 'utf8')).to.equal(old);
        expect(entries()).to.deep.equal(['weights.bin']);
      });
    }

    it('the temp file is complete, sits next to the target and carries the pid before the rename', () => {
      const realRename = fs.renameSync;
      const seen: string[] = [];
      const restore = patch(fs, 'renameSync', (from: string, to: string) => {
        seen.push(from, to, fs.readFileSync(from, 'utf8'));
        realRename(from, to);
      });
      try {
        writeFileAtomicSync(p, 'new data');
      } finally {
        restore();
      }
      const [from, to, content] = seen;
      expect(path.dirname(from)).to.equal(path.dirname(to));
      expect(path.basename(from)).to.match(new RegExp(`^\\.weights\\.bin\\.bptt-${process.pid}-[0-9a-f]{12}\\.tmp$`));
      expect(content).to.equal('new data');
      expect(fs.readFileSync(p, 'utf8')).to.equal('new data');
    });

    it('sync: a write that stops after half the bytes (ENOSPC)', () => {
      const realWrite = fs.writeSync;
      let calls = 0;
      const restore = patch(fs, 'writeFileSync', (fd: number, data: Uint8Array) => {
        realWrite(fd, data, 0, data.length >> 1); // half the bytes really reach the temp file
        calls++;
        throw Object.assign(new Error('injected ENOSPC'), { code: 'ENOSPC' });
      });
      try {
        expect(() => writeFileAtomicSync(p, new Uint8Array(4096).fill(7))).to.throw('injected ENOSPC');
      } finally {
        restore();
      }
      expect(calls).to.equal(1);
      expect(fs.readFileSync(p, 'utf8')).to.equal(old);
      expect(entries()).to.deep.equal(['weights.bin']);
    });

    it('async: rename fails', async () => {
      const restore = patch(fs.promises, 'rename', async () => failing('EIO')());
      let err: unknown = null;
      try {
        await writeFileAtomic(p, 'new data');
      } catch (e) {
        err = e;
      } finally {
        restore();
      }
      expect((err as Error).message).to.equal('injected EIO');
      expect(fs.readFileSync(p, 'utf8')).to.equal(old);
      expect(entries()).to.deep.equal(['weights.bin']);
    });
  });

  it('concurrent writers leave exactly one complete version, and readers never see a partial file', async () => {
    const p = path.join(dir, 'weights.bin');
    const size = 1 << 20;
    const versions = Array.from({ length: 12 }, (_, v) => new Uint8Array(size).fill(v + 1));
    fs.writeFileSync(p, new Uint8Array(size).fill(0));
    const isWhole = (b: Uint8Array): boolean => b.length === size && b.every((x) => x === b[0]);

    let done = false;
    let reads = 0;
    const reader = (async () => {
      while (!done) {
        const b = new Uint8Array(await fs.promises.readFile(p));
        expect(isWhole(b), `read ${reads}: a torn or partial file`).to.equal(true);
        reads++;
      }
    })();
    const writers = versions.map((v, i) =>
      i % 2 === 0 ? writeFileAtomic(p, v) : Promise.resolve().then(() => writeFileAtomicSync(p, v)),
    );
    await Promise.all(writers);
    done = true;
    await reader;

    const final = new Uint8Array(fs.readFileSync(p));
    expect(isWhole(final)).to.equal(true);
    expect(final[0]).to.be.within(1, versions.length);
    expect(reads).to.be.greaterThan(0);
    expect(entries()).to.deep.equal(['weights.bin']);
  });

  describe('stale temp files', () => {
    /** A pid no process has: a child that has exited. */
    const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid;

    it('names temp files so that their target and writer can be read back', () => {
      const t = tempPathFor(path.join(dir, 'a.b.json'));
      expect(path.dirname(t)).to.equal(dir);
      expect(parseTempName(path.basename(t))).to.deep.equal({ target: 'a.b.json', pid: process.pid });
      expect(parseTempName('.a.b.json.123.0123456789ab.tmp')).to.deep.equal({ target: 'a.b.json', pid: 123 }); // the older form
      for (const name of [
        'a.json',
        '.a.json.tmp',
        '.a.json.bptt-12-xyz.tmp',
        'a.json.bptt-12-0123456789ab.tmp',
        '.a.json.bptt-12-0123456789ab.tmp.bak',
      ]) {
        expect(parseTempName(name), name).to.equal(null);
      }
      expect(processAlive(process.pid)).to.equal(true);
      expect(processAlive(deadPid())).to.equal(false);
      expect(processAlive(0)).to.equal(false);
    });

    for (const [label, write] of [
      ['writeFileAtomicSync', async (p: string, d: string) => writeFileAtomicSync(p, d)],
      ['writeFileAtomic', writeFileAtomic],
    ] as const) {
      it(`${label} removes its target's temp files left by dead processes, and only those`, async () => {
        const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
        try {
          const p = path.join(dir, 'm.json');
          const dead = deadPid();
          const names = {
            dead: `.m.json.bptt-${dead}-0123456789ab.tmp`,
            deadOld: `.m.json.${dead}.0123456789ab.tmp`,
            live: `.m.json.bptt-${child.pid}-0123456789ab.tmp`,
            own: `.m.json.bptt-${process.pid}-0123456789ab.tmp`,
            other: `.n.json.bptt-${dead}-0123456789ab.tmp`,
            plain: 'm.json.tmp',
          };
          for (const n of Object.values(names)) fs.writeFileSync(path.join(dir, n), 'partial');
          fs.mkdirSync(path.join(dir, `.m.json.bptt-${dead}-abcdefabcdef.tmp`)); // a directory is never removed
          await write(p, 'new');
          expect(fs.readFileSync(p, 'utf8')).to.equal('new');
          expect(entries()).to.deep.equal(
            [`.m.json.bptt-${dead}-abcdefabcdef.tmp`, names.live, names.own, names.other, 'm.json', names.plain].sort(),
          );
        } finally {
          child.kill();
        }
      });
    }

    it('removeStaleTemps returns what it removed and skips a directory it cannot list', () => {
      const p = path.join(dir, 'x.csv');
      const stale = path.join(dir, `.x.csv.bptt-${deadPid()}-0123456789ab.tmp`);
      fs.writeFileSync(stale, '');
      expect(removeStaleTemps(p)).to.deep.equal([stale]);
      expect(removeStaleTemps(p)).to.deep.equal([]);
      expect(removeStaleTemps(path.join(dir, 'missing', 'x.csv'))).to.deep.equal([]);
    });
  });
});
