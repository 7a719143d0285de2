/**
 * The fuzz suite in `npm test`: a fixed-seed slice of the cases `npm run fuzz` runs (spec/fuzz/targets.ts says what
 * each target reads and how its cases are made; runner.ts defines the verdicts; harness.ts bounds every case). Every
 * case must end in an accepted input whose result passes the target's check, or in a refusal: an Error with a message
 * of the kind the target asks for. Never a hang, a dead worker, an engine error leaking out (stack overflow, "Cannot
 * read properties of undefined", ...), a thrown non-Error, an empty message, an allocation beyond the bound of
 * guard.ts, a polluted prototype or an executed payload.
 *
 * The model and detector loaders (lib/io/json.ts, lib/detect/io.ts, lib/model/layers/*) and the options parser are owned
 * elsewhere; their tests here state the behaviour they should have and fail until it is there.
 */
import { expect } from 'chai';
import { runFuzz, type TargetReport } from './harness';
import { HARD, type Outcome } from './runner';
import { TARGETS } from './targets';

const SEED = 'npm-test';
/** Cases per target: a few seconds in all. */
const CASES: Record<string, number> = {
  csv: 150,
  options: 400,
  'model-json': 400,
  'detector-json': 300,
  tfjs: 400,
  safetensors: 500,
};

function describeFindings(list: readonly Outcome[], max = 6): string {
  const lines = list.slice(0, max).map((f) => `#${f.index} ${f.verdict}: ${f.detail}\n      made by: ${f.what}`);
  if (list.length > max)
    lines.push(
      `… and ${list.length - max} more (npm run fuzz -- --seed ${SEED} --targets ${list[0]?.target} --from I --cases 1 --verbose)`,
    );
  return `${list.length} failing case${list.length === 1 ? '' : 's'}:\n    ${lines.join('\n    ')}`;
}

describe(`fuzz: seeded mutations of valid inputs (seed '${SEED}'; npm run fuzz for long runs)`, function () {
  this.timeout(600_000);
  const reports = new Map<string, TargetReport>();

  before(async () => {
    for (const r of await runFuzz({ seed: SEED, targets: TARGETS.map((t) => t.name), cases: CASES }))
      reports.set(r.target, r);
  });

  const report = (name: string): TargetReport => {
    const r = reports.get(name);
    if (!r) throw new Error(`no fuzz report for ${name}`);
    return r;
  };

  it('ran every case of every target, and both outcomes occur (the mutations reach past the first check)', () => {
    for (const t of TARGETS) {
      const r = report(t.name);
      expect(r.cases, t.name).to.equal(CASES[t.name]);
      expect(r.counts.refused ?? 0, `${t.name}: refusals`).to.be.greaterThan(0);
      expect(r.counts.ok ?? 0, `${t.name}: accepted inputs`).to.be.greaterThan(0);
    }
  });

  for (const t of TARGETS) {
    const owned = t.owner === 'inputs-fuzz';
    const n = CASES[t.name];
    if (owned) {
      it(`${t.name} (${t.files}): ${n} cases, each accepted soundly or refused with ${t.expect}`, () => {
        const r = report(t.name);
        expect(r.findings, describeFindings(r.findings)).to.deep.equal([]);
      });
    } else {
      it(`${t.name} (${t.files}; owner: ${t.owner}): ${n} cases, no hang, crash, engine error, non-Error, unbounded allocation or pollution`, () => {
        const hard = report(t.name).findings.filter((f) => HARD.includes(f.verdict));
        expect(hard, describeFindings(hard)).to.deep.equal([]);
      });
      it(`${t.name} (owner: ${t.owner}): every refusal is ${t.expect}`, () => {
        const unnamed = report(t.name).findings.filter((f) => f.verdict === 'unnamed');
        expect(unnamed, describeFindings(unnamed)).to.deep.equal([]);
      });
    }
  }
});
