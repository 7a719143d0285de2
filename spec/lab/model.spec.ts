/**
 * The BPTT lab's model and trainer (lab/model.ts, lab/trainer.ts, lab/series.ts) in Node: the per-step gradients the
 * lab plots are the true dL/dh_t (finite differences), the step-by-step run equals the batched one, training lowers the
 * loss, the init toggle shows vanishing and exploding gradients, runs repeat bit for bit, bad input names the argument.
 */
import { expect } from 'chai';
import { LabModel, type CellKind, type LabModelOptions } from '../../lab/model';
import { Trainer, type TrainRequest } from '../../lab/trainer';
import { makeSeries, moments, parseSeries, SPIKE_AT } from '../../lab/series';
import { rnnForward, rnnWorkspace } from '../../kernels/rnn';
import { lstmForward, lstmWorkspace } from '../../kernels/lstm';
import { gruForward, gruWorkspace } from '../../kernels/gru';
import { makeRng, uniform64 } from '../helpers/rng';

const CELLS: readonly CellKind[] = ['rnn', 'lstm', 'gru'];

function options(cell: CellKind, over: Partial<LabModelOptions> = {}): LabModelOptions {
  return { cell, hidden: 5, window: 7, learningRate: 0.01, recurrentScale: 1, clipNorm: 1, seed: 3, ...over };
}

/** A model with random non-zero biases and readout (zeros would hide bugs), and a random window. */
function randomised(cell: CellKind, seed: number): { m: LabModel; x: Float64Array; y: number } {
  const m = new LabModel(options(cell));
  const rng = makeRng(`lab-${cell}-${seed}`);
  m.b.set(uniform64(m.b.length, rng, -0.5, 0.5));
  m.V.set(uniform64(m.V.length, rng));
  m.c[0] = 0.3;
  return { m, x: uniform64(7, rng, -1.5, 1.5), y: rng() - 0.5 };
}

/** The loss of the window's steps t+1…T run from state h (and c), through the kernels directly. */
function suffixLoss(m: LabModel, x: Float64Array, y: number, t: number, h: Float64Array, c: Float64Array): number {
  const T = x.length - t,
    H = m.options.hidden;
  let hT: Float64Array;
  if (T === 0) hT = h;
  else {
    const p = { W: m.W, U: m.U, b: m.b },
      xs = x.subarray(t);
    if (m.options.cell === 'rnn') {
      const ws = rnnWorkspace(T, 1, 1, H, Float64Array);
      ws.h.set(h, 0);
      rnnForward(ws, p, xs);
      hT = ws.h.subarray(T * H) as Float64Array;
    } else if (m.options.cell === 'lstm') {
      const ws = lstmWorkspace(T, 1, 1, H, Float64Array);
      ws.h.set(h, 0);
      ws.c.set(c, 0);
      lstmForward(ws, p, xs);
      hT = ws.h.subarray(T * H) as Float64Array;
    } else {
      const ws = gruWorkspace(T, 1, 1, H, Float64Array);
      ws.h.set(h, 0);
      gruForward(ws, p, xs);
      hT = ws.h.subarray(T * H) as Float64Array;
    }
  }
  let yHat = m.c[0];
  for (let j = 0; j < H; j++) yHat += hT[j] * m.V[j];
  return (yHat - y) * (yHat - y);
}

function relErr(a: number, n: number): number {
  return Math.abs(a - n) / Math.max(Math.abs(a), Math.abs(n), 1e-8);
}

function request(over: Partial<TrainRequest> = {}, opt: Partial<LabModelOptions> = {}): TrainRequest {
  return {
    type: 'train',
    id: 1,
    options: options('lstm', { hidden: 8, window: 16, ...opt }),
    steps: 60,
    batch: 8,
    series: makeSeries('sine', 200),
    inspectAt: -1,
    detector: 'none',
    ...over,
  };
}

describe('lab/model: the BPTT lab model', () => {
  for (const cell of CELLS) {
    it(`${cell}: ‖dL/dh_t‖ of every step equals the norm of a finite-difference gradient (float64, eps 1e-6)`, () => {
      const { m, x, y } = randomised(cell, 1);
      const ins = m.inspect(x, y);
      const T = x.length,
        H = m.options.hidden;
      for (let t = 0; t <= T; t++) {
        const h = t === 0 ? new Float64Array(H) : ins.h.slice((t - 1) * H, t * H);
        const c = cell !== 'lstm' || t === 0 ? new Float64Array(H) : ins.c.slice((t - 1) * H, t * H);
        for (const which of cell === 'lstm' ? (['h', 'c'] as const) : (['h'] as const)) {
          const v = which === 'h' ? h : c;
          let sq = 0;
          for (let j = 0; j < H; j++) {
            const keep = v[j];
            v[j] = keep + 1e-6;
            const up = suffixLoss(m, x, y, t, h, c);
            v[j] = keep - 1e-6;
            const down = suffixLoss(m, x, y, t, h, c);
            v[j] = keep;
            sq += ((up - down) / 2e-6) ** 2;
          }
          const analytic = which === 'h' ? ins.dhNorm[t] : ins.dcNorm[t];
          if (which === 'c' && t === T) continue; // the readout reads h_T only: dL/dc_T is 0 by construction
          expect(relErr(analytic, Math.sqrt(sq)), `‖dL/d${which}_${t}‖: ${analytic} vs ${Math.sqrt(sq)}`).to.be.below(
            1e-6,
          );
        }
      }
      expect(ins.dhNorm[T]).to.be.above(0);
    });

    it(`${cell}: the step-by-step run (T one-step calls) gives the batched run's loss, parameter gradients and dL/dh_0`, () => {
      const { m, x, y } = randomised(cell, 2);
      const ins = m.inspect(x, y);
      const g = m.gradients(x, Float64Array.of(y), 1);
      expect(relErr(ins.loss, g.loss)).to.be.below(1e-13);
      for (const k of ['dW', 'dU', 'db', 'dV', 'dc', 'dh0'] as const) {
        const a = ins.grads[k],
          b = g[k];
        expect(a.length, k).to.equal(b.length);
        for (let i = 0; i < a.length; i++) {
          expect(Math.abs(a[i] - b[i]), `${k}[${i}]: ${a[i]} vs ${b[i]}`).to.be.at.most(
            1e-12 * Math.max(1, Math.abs(b[i])),
          );
        }
      }
      expect(ins.gates.length).to.equal(cell === 'rnn' ? 0 : x.length * m.G * m.options.hidden);
    });
  }

  it('training lowers the loss (sine, each cell): the last 10 steps average below half the first step', () => {
    for (const cell of CELLS) {
      const t = new Trainer(request({}, { cell }));
      const losses = t.chunk(60);
      expect(losses).to.have.length(60);
      const tail = losses.slice(-10).reduce((a, b) => a + b, 0) / 10;
      expect(tail, `${cell}: first ${losses[0]}, last 10 ${tail}`).to.be.below(losses[0] / 2);
    }
  });

  it('the recurrent-init toggle shows it: tanh RNN gradients vanish with U small and explode with U large', () => {
    const ratio = (scale: number): number => {
      const t = new Trainer(request({ inspectAt: 10 }, { cell: 'rnn', hidden: 16, window: 32, recurrentScale: scale }));
      const d = t.snapshot([]).inspection.dhNorm;
      return d[0] / d[32];
    };
    expect(ratio(0.25), 'small U: ‖dL/dh_0‖ / ‖dL/dh_T‖').to.be.below(1e-6);
    expect(ratio(2.5), 'large U: ‖dL/dh_0‖ / ‖dL/dh_T‖').to.be.above(10);
  });

  it('same seed and series give bit-identical losses, states and forecasts; another seed differs', () => {
    const run = (seed: number): { losses: number[]; h: Float64Array; forecast: Float64Array } => {
      const t = new Trainer(request({}, { seed }));
      const losses = t.chunk(20);
      const s = t.snapshot(losses);
      return { losses, h: s.inspection.h, forecast: s.forecast };
    };
    const a = run(5),
      b = run(5),
      c = run(6);
    expect(b.losses).to.deep.equal(a.losses);
    expect(Array.from(b.h)).to.deep.equal(Array.from(a.h));
    expect(Array.from(b.forecast)).to.deep.equal(Array.from(a.forecast));
    expect(c.losses).to.not.deep.equal(a.losses);
  });

  it('the trainer fits the cell autoencoder Detector on the spike series and flags the spike', function () {
    this.timeout(120000);
    const series = makeSeries('sine-spike', 300);
    const t = new Trainer(request({ series, detector: 'cell-ae' }, { cell: 'gru', hidden: 6, window: 16 }));
    const d = t.detect();
    expect(d).to.not.equal(null);
    if (d === null) return;
    expect(d.model).to.equal('gru-ae');
    expect(d.scores).to.have.length(300);
    expect(d.flags[Math.floor(300 * SPIKE_AT)], 'the spike is flagged').to.equal(1);
    let flagged = 0;
    d.flags.forEach((f) => (flagged += f));
    expect(flagged, 'few points flagged').to.be.at.most(5);
  });

  it('the default inspected window ends just before the largest |z| (the spike)', () => {
    const series = makeSeries('sine-spike', 200);
    const t = new Trainer(request({ series }));
    expect(t.inspectAt + 16).to.equal(Math.floor(200 * SPIKE_AT));
  });

  it('bad input names the argument, what was expected and what came', () => {
    expect(() => new LabModel(options('lstm', { hidden: 0 }))).to.throw(
      RangeError,
      /LabModel\(hidden\).*1 to 64.*got 0/,
    );
    expect(() => new LabModel(options('elman' as CellKind))).to.throw(
      RangeError,
      /LabModel\(cell\).*rnn, lstm, gru.*elman/,
    );
    expect(() => new LabModel(options('gru', { learningRate: NaN }))).to.throw(RangeError, /learningRate.*NaN/);
    expect(() => new Trainer(request({ series: [1, 2, 3] }))).to.throw(RangeError, /train\(series\).*18 points, got 3/);
    expect(() => new Trainer(request({ batch: 0 }))).to.throw(RangeError, /train\(batch\).*got 0/);
    expect(() => new Trainer(request({ inspectAt: 999 }))).to.throw(RangeError, /inspect\(at\).*0 to 183.*got 999/);
    expect(() => parseSeries('1, 2, x3, 4', 2)).to.throw(RangeError, /item 3 is "x3", expected a finite number/);
    expect(() => parseSeries('1 2', 5)).to.throw(RangeError, /at least 5 numbers.*got 2/);
    expect(parseSeries('1, 2;3\n4\t-5e-1', 5)).to.deep.equal([1, 2, 3, 4, -0.5]);
  });

  it('the built-in series: length, seeded, the spike where SPIKE_AT says; moments of a constant series', () => {
    const s = makeSeries('sine-spike', 100);
    expect(s).to.have.length(100);
    const k = Math.floor(100 * SPIKE_AT);
    expect(s[k] - Math.sin((2 * Math.PI * k) / 25)).to.be.above(3.5);
    expect(makeSeries('random-walk', 50, 2)).to.deep.equal(makeSeries('random-walk', 50, 2));
    expect(makeSeries('random-walk', 50, 2)).to.not.deep.equal(makeSeries('random-walk', 50, 3));
    expect(moments([2, 2, 2])).to.deep.equal({ mean: 2, std: 1 });
  });
});
