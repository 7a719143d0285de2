/**
 * lib/host.ts: the core without a host (a browser, or lib/index.ts imported without the Node entry). Every file-path
 * API throws a NodeOnlyError naming itself and the browser alternative before touching anything; `workers: 'auto'` is
 * 1 and an explicit count above 1 is an ArgumentError pointing to the Web Worker recipe; the memory check has no
 * machine total. With the Node host back, the same calls work. (The suite runs with the Node host installed by
 * .mocharc.json; each test here removes it and puts it back.)
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { currentHost, installHost, NodeOnlyError, type Host } from '../../lib/host';
import { nodeHost } from '../../lib/node/host';
import {
  Detector,
  Sequential,
  lstm,
  dense,
  loadTfjsModel,
  saveTfjsModelSync,
  loadTorchSafetensorsSync,
} from '../../lib/index';
import { resolveWorkers } from '../../lib/parallel/index';
import { totalMemoryLimit } from '../../lib/memory';
import { ArgumentError } from '../../lib/errors';

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('lib/host: the core without a host (a browser)', () => {
  let saved: Host | null;
  let dir: string;
  let model: Sequential;
  let detector: Detector;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-host-'));
    model = new Sequential([lstm({ units: 3, inputShape: [4, 1] }), dense({ units: 1 })], { seed: 1 });
    model.build();
    detector = new Detector({ model: 'zscore', window: 4, threshold: 'quantile:0.99' }).fit(
      Array.from({ length: 100 }, (_, i) => Math.sin(i)),
    );
  });
  beforeEach(() => {
    saved = currentHost();
    expect(saved).to.equal(nodeHost);
    installHost(null);
  });
  afterEach(() => installHost(saved));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('file-path APIs throw NodeOnlyError naming the call and the browser alternative, and write nothing', async () => {
    const file = path.join(dir, 'x.json');
    const cases: Array<[() => unknown, string, RegExp]> = [
      [() => detector.save(file), 'Detector.save(path)', /detector\.toJSON\(\)/],
      [() => Detector.load(file), 'Detector.load(path)', /Detector\.fromJSON/],
      [() => detector.exportScorer(file), 'Detector.exportScorer(path)', /toJSON/],
      [() => model.save(file), 'Sequential.save(path)', /model\.toJSON\(\)/],
      [() => Sequential.load(file), 'Sequential.load(path)', /Sequential\.fromJSON/],
      [() => saveTfjsModelSync(model, dir), 'saveTfjsModelSync(dir)', /toTfjs\(model\)/],
      [() => loadTorchSafetensorsSync(model, file), 'loadTorchSafetensorsSync(path)', /loadTorchStateDict/],
    ];
    for (const [f, api, alternative] of cases) {
      const e = thrown(f);
      expect(e, api).to.be.instanceOf(NodeOnlyError);
      const n = e as NodeOnlyError;
      expect(n.api).to.equal(api);
      expect(n.message).to.match(
        new RegExp(`^${api.replace(/[().]/g, '\\$&')} (writes|reads) (a file|files) and needs Node`),
      );
      expect(n.message, api).to.match(alternative);
    }
    const e = await loadTfjsModel(path.join(dir, 'model.json')).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).to.be.instanceOf(NodeOnlyError);
    expect(fs.readdirSync(dir)).to.deep.equal([]);
    // What works everywhere still works.
    expect(Detector.fromJSON(JSON.stringify(detector.toJSON())).fitted).to.equal(true);
  });

  it("workers: 'auto' is 1; an explicit count above 1 is an ArgumentError pointing to the Web Worker recipe", () => {
    expect(resolveWorkers(model, 100000, 'auto')).to.equal(1);
    expect(resolveWorkers(model, 100000, 1)).to.equal(1);
    const e = thrown(() => resolveWorkers(model, 100000, 2, { arg: 'fit(workers)' }));
    expect(e).to.be.instanceOf(ArgumentError);
    expect(e.message).to.match(/^fit\(workers\): 2 workers need Node's worker_threads.*Web Worker.*README/);
    const x = [[[1], [2], [3], [4]]];
    expect(() => model.fit(x, [[1]], { epochs: 1, workers: 2 })).to.throw(ArgumentError, /Web Worker/);
  });

  it('the memory check has no machine total without a host; the Node host gives os.totalmem()', () => {
    expect(totalMemoryLimit()).to.equal(Infinity);
    installHost(nodeHost);
    expect(totalMemoryLimit()).to.equal(os.totalmem());
  });

  it('with the Node host back, the same calls write and read files', () => {
    installHost(nodeHost);
    const file = path.join(dir, 'd.json');
    detector.save(file);
    expect(Detector.load(file).fitted).to.equal(true);
    fs.rmSync(file);
  });
});
