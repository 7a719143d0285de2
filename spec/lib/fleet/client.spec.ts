/**
 * bptt/fleet without ioredis installed: loading the module works (ioredis is required on first use), and the first
 * call fails with a FleetError 'dependency' naming `npm install ioredis`. Run in a child process whose module
 * resolution pretends ioredis is absent.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as path from 'path';

describe('fleet: ioredis is an optional peer dependency', () => {
  it('without it, bptt/fleet loads and its first call names the install command', () => {
    const fleet = path.resolve(__dirname, '..', '..', '..', 'lib', 'fleet', 'index.js');
    const script = `
      const Module = require('module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === 'ioredis') { const e = new Error("Cannot find module 'ioredis'"); e.code = 'MODULE_NOT_FOUND'; throw e; }
        return resolve.call(this, request, ...rest);
      };
      const f = require(${JSON.stringify(fleet)});
      f.createFleet('redis://127.0.0.1:1', { partitions: 2 }).then(
        () => console.log('no error'),
        (e) => console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })),
      );`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    const e = JSON.parse(r.stdout) as { name: string; code: string; message: string };
    expect(e.name).to.equal('FleetError');
    expect(e.code).to.equal('dependency');
    expect(e.message).to.match(/needs the Redis client ioredis, which is not installed.*npm install ioredis$/);
  });

  it('a URL that is not redis:// is refused before connecting', async () => {
    const { createFleet, FleetError } = await import('../../../lib/fleet');
    let err: unknown;
    await createFleet('http://127.0.0.1:6379').catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(FleetError);
    expect((err as Error).message).to.equal('redis: expected a redis:// or rediss:// URL, got "http://127.0.0.1:6379"');
  });
});
