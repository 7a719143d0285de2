/**
 * The lab page: reads the controls, starts the Web Worker (its source is bundled into this page and started from a Blob
 * URL, so the page is one file that opens from disk), sends it a TrainRequest, and redraws the views from the messages it
 * posts back. Nothing here trains; the page's thread only draws.
 *
 * `window.labState` exposes counters for the browser test (spec/browser/lab.spec.ts): a timer's ticks, the ticks seen
 * at each progress message (they advance while the worker trains), the losses, the detector's flags, and for model
 * 'lstm-attn-ae' the attention window drawn (its start and the sums of its rows).
 */
import workerSource from 'lab:worker-source';
import { EQUATIONS } from 'lab:equations';
import { GATE_NAMES, type CellKind } from './model.js';
import { makeSeries, parseSeries, type SeriesName } from './series.js';
import type {
  AttentionWindow,
  DetectorChoice,
  DetectorMessage,
  ProgressMessage,
  TrainRequest,
  WorkerMessage,
} from './trainer.js';
import { heatmap, lineChart, prepare, type Line } from './draw.js';

export interface LabState {
  /** A 20 ms timer's ticks and the animation frames drawn: they advance only while the page's thread is free. */
  ticks: number;
  frames: number;
  /** `ticks` when each progress message arrived. */
  ticksAtProgress: number[];
  running: boolean;
  runs: number;
  step: number;
  losses: number[];
  /** ‖dL/dh_t‖, t = 0…T, of the latest snapshot. */
  dhNorm: number[];
  /** The fitted detector: its model, the flagged points, the backend, the threshold, the point of the highest score. */
  detector: { model: string; flagged: number[]; backend: string; threshold: number; peak: number } | null;
  /** Model 'lstm-attn-ae': the window whose attention is drawn, W, and the sum of each decoder step's weights. */
  attention: { start: number; window: number; rowSums: number[] } | null;
  errors: string[];
}

declare global {
  interface Window {
    labState: LabState;
  }
}

const state: LabState = {
  ticks: 0,
  frames: 0,
  ticksAtProgress: [],
  running: false,
  runs: 0,
  step: 0,
  losses: [],
  dhNorm: [],
  detector: null,
  attention: null,
  errors: [],
};
window.labState = state;

function el<E extends HTMLElement>(id: string): E {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`lab page: no element #${id}`);
  return e as E;
}

const ui = {
  form: el<HTMLFormElement>('controls'),
  cell: el<HTMLSelectElement>('cell'),
  hidden: el<HTMLInputElement>('hidden'),
  window: el<HTMLInputElement>('window'),
  lr: el<HTMLSelectElement>('lr'),
  scale: el<HTMLSelectElement>('scale'),
  clip: el<HTMLSelectElement>('clip'),
  steps: el<HTMLInputElement>('steps'),
  seed: el<HTMLInputElement>('seed'),
  series: el<HTMLSelectElement>('series'),
  pasted: el<HTMLTextAreaElement>('pasted'),
  detector: el<HTMLSelectElement>('detector'),
  train: el<HTMLButtonElement>('train'),
  stop: el<HTMLButtonElement>('stop'),
  status: el<HTMLSpanElement>('status'),
  seriesCanvas: el<HTMLCanvasElement>('series-canvas'),
  scoreCanvas: el<HTMLCanvasElement>('score-canvas'),
  lossCanvas: el<HTMLCanvasElement>('loss-canvas'),
  gradCanvas: el<HTMLCanvasElement>('grad-canvas'),
  inspectAt: el<HTMLInputElement>('inspect-at'),
  step: el<HTMLInputElement>('step'),
  play: el<HTMLButtonElement>('play'),
  heatmaps: el<HTMLDivElement>('heatmaps'),
  readout: el<HTMLPreElement>('readout'),
  eqForward: el<HTMLPreElement>('eq-forward'),
  eqBackward: el<HTMLPreElement>('eq-backward'),
  lossSummary: el<HTMLSpanElement>('loss-summary'),
  gradSummary: el<HTMLSpanElement>('grad-summary'),
  detectorSummary: el<HTMLSpanElement>('detector-summary'),
  attentionPanel: el<HTMLElement>('attention-panel'),
  attention: el<HTMLDivElement>('attention'),
  attentionSummary: el<HTMLSpanElement>('attention-summary'),
};

setInterval(() => state.ticks++, 20);
const frame = (): void => {
  state.frames++;
  requestAnimationFrame(frame);
};
requestAnimationFrame(frame);

const workerUrl = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
const worker = new Worker(workerUrl);

/** The run being shown. */
let run: {
  id: number;
  cell: CellKind;
  series: number[];
  latest: ProgressMessage | null;
  first: ProgressMessage | null;
  detector: DetectorMessage | null;
  attention: AttentionWindow | null;
} | null = null;
let nextId = 1;

function setStatus(text: string, error = false): void {
  ui.status.textContent = text;
  ui.status.classList.toggle('error', error);
}

function intValue(input: HTMLInputElement, name: string): number {
  const v = Number(input.value);
  const lo = Number(input.min),
    hi = input.max === '' ? Infinity : Number(input.max);
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new RangeError(`${name}: expected an integer from ${lo} to ${hi}, got ${JSON.stringify(input.value)}`);
  }
  return v;
}

function startTraining(): void {
  const window = intValue(ui.window, 'sequence length T');
  const cell = ui.cell.value as CellKind;
  const seriesName = ui.series.value;
  const series =
    seriesName === 'pasted' ? parseSeries(ui.pasted.value, window + 2) : makeSeries(seriesName as SeriesName);
  if (series.length < window + 2) {
    throw new RangeError(
      `sequence length T: the series has ${series.length} points, so T must be at most ${series.length - 2}`,
    );
  }
  const request: TrainRequest = {
    type: 'train',
    id: nextId++,
    options: {
      cell,
      hidden: intValue(ui.hidden, 'hidden units H'),
      window,
      learningRate: Number(ui.lr.value),
      recurrentScale: Number(ui.scale.value),
      clipNorm: Number(ui.clip.value),
      seed: intValue(ui.seed, 'seed'),
    },
    steps: intValue(ui.steps, 'steps'),
    batch: 16,
    series,
    inspectAt: -1,
    detector: ui.detector.value as DetectorChoice,
  };
  run = { id: request.id, cell, series, latest: null, first: null, detector: null, attention: null };
  state.running = true;
  state.runs++;
  state.step = 0;
  state.losses = [];
  state.dhNorm = [];
  state.ticksAtProgress = [];
  state.detector = null;
  showAttention(null);
  ui.inspectAt.max = String(series.length - window - 1);
  ui.step.max = String(window);
  ui.step.value = String(window);
  ui.eqForward.textContent = EQUATIONS[cell].forward;
  ui.eqBackward.textContent = EQUATIONS[cell].backward;
  buildHeatmaps(cell);
  ui.stop.disabled = false;
  setStatus('training…');
  worker.postMessage(request);
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  try {
    startTraining();
  } catch (err) {
    setStatus(err instanceof Error ? err.message : String(err), true);
  }
});
ui.stop.addEventListener('click', () => worker.postMessage({ type: 'stop' }));
ui.inspectAt.addEventListener('input', () => {
  if (run !== null) worker.postMessage({ type: 'inspect', id: run.id, at: Number(ui.inspectAt.value) });
});
ui.step.addEventListener('input', () => scheduleDraw());

let playing: ReturnType<typeof setInterval> | null = null;
ui.play.addEventListener('click', () => {
  if (playing !== null) {
    clearInterval(playing);
    playing = null;
    ui.play.textContent = '▶ play';
    return;
  }
  ui.play.textContent = '❚❚ pause';
  if (Number(ui.step.value) >= Number(ui.step.max)) ui.step.value = '1';
  playing = setInterval(() => {
    const t = Number(ui.step.value);
    if (t >= Number(ui.step.max) && playing !== null) {
      clearInterval(playing);
      playing = null;
      ui.play.textContent = '▶ play';
      return;
    }
    ui.step.value = String(t + 1);
    scheduleDraw();
  }, 250);
});

worker.onmessage = (e: MessageEvent<WorkerMessage>): void => {
  const msg = e.data;
  if (run === null || msg.id !== run.id) return;
  if (msg.type === 'progress') {
    state.ticksAtProgress.push(state.ticks);
    state.step = msg.step;
    for (const l of msg.losses) state.losses.push(l);
    state.dhNorm = Array.from(msg.inspection.dhNorm);
    run.latest = msg;
    if (run.first === null && msg.step === 0) run.first = msg; // the initialisation, drawn dashed
    ui.inspectAt.value = String(msg.inspectAt);
    if (state.running) setStatus(`training… step ${msg.step} of ${msg.steps}`);
    scheduleDraw();
  } else if (msg.type === 'done') {
    state.running = false;
    ui.stop.disabled = true;
    setStatus(
      `${msg.stopped ? 'stopped' : 'trained'}: ${msg.step} steps${ui.detector.value === 'none' ? '' : '; fitting the detector…'}`,
    );
  } else if (msg.type === 'detector') {
    run.detector = msg;
    const flagged: number[] = [];
    msg.flags.forEach((f, i) => {
      if (f !== 0) flagged.push(i);
    });
    let peak = msg.firstScored;
    for (let t = msg.firstScored; t < msg.scores.length; t++) if (msg.scores[t] > msg.scores[peak]) peak = t;
    state.detector = { model: msg.model, flagged, backend: msg.backend, threshold: msg.threshold, peak };
    showAttention(msg.attention);
    setStatus(`trained: ${state.step} steps; detector ${msg.model} fitted`);
    scheduleDraw();
  } else if (msg.type === 'attention') {
    showAttention(msg.attention);
    scheduleDraw();
  } else {
    state.running = false;
    state.errors.push(msg.message);
    ui.stop.disabled = true;
    setStatus(msg.message, true);
  }
};
worker.onerror = (e: ErrorEvent): void => {
  state.running = false;
  state.errors.push(e.message);
  setStatus(`worker error: ${e.message}`, true);
};

/** Model 'lstm-attn-ae': keeps the window to draw (null hides the panel) and its summary for the test. */
function showAttention(a: AttentionWindow | null): void {
  if (run !== null) run.attention = a;
  ui.attentionPanel.hidden = a === null;
  if (a === null) {
    state.attention = null;
    ui.attention.replaceChildren();
    return;
  }
  const W = a.window,
    rowSums: number[] = [];
  for (let i = 0; i < W; i++) {
    let sum = 0;
    for (let j = 0; j < W; j++) sum += a.weights[i * W + j];
    rowSums.push(sum);
  }
  state.attention = { start: a.start, window: W, rowSums };
  if (ui.attention.childElementCount === 0) {
    const map = document.createElement('canvas'),
      strip = document.createElement('canvas');
    map.className = 'heat attention';
    strip.className = 'heat strip';
    ui.attention.append(map, strip);
  }
}

/**
 * The attention of one window: a heatmap with the encoder step j (the window's points, oldest left) along x and the
 * decoder step i along y, coloured from the window's smallest α (white) to its largest (dark green), a stretch that
 * shows the pattern of a nearly uniform attention; below it a strip of Σ_i α_ij / W, how much of the whole
 * reconstruction each point fed, stretched the same way.
 */
function drawAttention(a: AttentionWindow): void {
  const [map, strip] = Array.from(ui.attention.children) as HTMLCanvasElement[];
  const W = a.window;
  const stretch = (v: ArrayLike<number>): Float64Array => {
    let lo = Infinity,
      hi = -Infinity;
    for (let k = 0; k < v.length; k++) {
      lo = Math.min(lo, v[k]);
      hi = Math.max(hi, v[k]);
    }
    return Float64Array.from(v, (x) => (hi > lo ? (x - lo) / (hi - lo) : 1));
  };
  let max = 0;
  for (const v of a.weights) max = Math.max(max, v);
  const t = new Float64Array(W * W), // transposed: heatmap() puts the first index along x
    mean = new Float64Array(W);
  for (let i = 0; i < W; i++) {
    for (let j = 0; j < W; j++) {
      t[j * W + i] = a.weights[i * W + j];
      mean[j] += a.weights[i * W + j] / W;
    }
  }
  heatmap(map, stretch(t), W, W, W, 0, false, -1);
  heatmap(strip, stretch(mean), W, 1, 1, 0, false, -1);
  let top = 0;
  for (let j = 1; j < W; j++) if (mean[j] > mean[top]) top = j;
  ui.attentionSummary.textContent =
    `window ${a.start}–${a.start + W - 1} (drag the inspected-window slider to move it); largest α ${max.toFixed(3)}; ` +
    `most attended point ${a.start + top} (mean α ${mean[top].toFixed(3)}, uniform would be ${(1 / W).toFixed(3)})`;
}

let drawPending = false;
function scheduleDraw(): void {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    draw();
  });
}

interface HeatView {
  canvas: HTMLCanvasElement;
  title: HTMLHeadingElement;
}
let heatViews: HeatView[] = [];
let inputCanvas: HTMLCanvasElement | null = null;

/** The heatmaps of a cell: x_t (a line), h_t, c_t (LSTM), then one per gate. */
function buildHeatmaps(cell: CellKind): void {
  ui.heatmaps.replaceChildren();
  heatViews = [];
  const add = (title: string): HTMLCanvasElement => {
    const box = document.createElement('div');
    const h = document.createElement('h3');
    h.textContent = title;
    const c = document.createElement('canvas');
    c.className = 'heat';
    box.append(h, c);
    ui.heatmaps.append(box);
    heatViews.push({ canvas: c, title: h });
    return c;
  };
  inputCanvas = add('input x_t (normalised) over the window');
  heatViews.pop();
  add('hidden state h_t');
  if (cell === 'lstm') add('cell state c_t');
  for (const g of GATE_NAMES[cell]) add(`gate ${g}`);
}

function fmt(v: number): string {
  return (v >= 0 ? ' ' : '') + v.toFixed(3);
}

function draw(): void {
  if (run === null || run.latest === null) return;
  const p = run.latest,
    ins = p.inspection,
    T = ins.T,
    H = ins.H;
  const t = Math.min(T, Math.max(1, Number(ui.step.value))); // 1-based step
  const cell = run.cell;

  // Series, forecast, flags, inspected window.
  const d = run.detector;
  const flagged: number[] = [];
  if (d !== null) d.flags.forEach((f, i) => f !== 0 && flagged.push(i));
  lineChart(ui.seriesCanvas, {
    lines: [
      { values: run.series, color: '#1f77b4' },
      { values: p.forecast, color: '#ff7f0e', width: 1.2 },
    ],
    markers: flagged,
    band: [p.inspectAt, p.inspectAt + T],
    xLabel: 'index',
  });
  if (d !== null) {
    const scores = Array.from(d.scores, (v, i) => (i < d.firstScored ? NaN : v));
    lineChart(ui.scoreCanvas, {
      lines: [
        { values: scores, color: '#2ca02c' },
        { values: d.thresholds, color: '#777', dashed: true },
      ],
      markers: flagged,
      xLabel: 'index',
    });
    ui.detectorSummary.textContent =
      ` ${d.model} (backend ${d.backend}): ${d.events.length} event(s)` +
      (d.events.length > 0
        ? ` at ${d.events.map((e) => (e.start === e.end ? e.start : `${e.start}–${e.end}`)).join(', ')}`
        : '');
    if (run.attention !== null) drawAttention(run.attention);
  } else {
    prepare(ui.scoreCanvas);
    ui.detectorSummary.textContent = state.running ? ' (fitted after training)' : '';
  }

  // Loss.
  const ema: number[] = [];
  let m = NaN;
  for (const l of state.losses) {
    m = Number.isNaN(m) ? l : 0.9 * m + 0.1 * l;
    ema.push(m);
  }
  lineChart(ui.lossCanvas, {
    lines: [
      { values: state.losses, color: '#9ecae1', width: 1 },
      { values: ema, color: '#08519c', width: 2 },
    ],
    logY: true,
    xLabel: 'step',
  });
  if (ema.length > 0) {
    ui.lossSummary.textContent = `first ${state.losses[0].toExponential(2)}, now ${ema[ema.length - 1].toExponential(2)} (average)`;
  }

  // Gradient norms through time.
  const lines: Line[] = [{ values: ins.dhNorm, color: '#1f77b4', width: 2 }];
  if (run.first !== null && run.first !== p && run.first.inspectAt === p.inspectAt) {
    lines.push({ values: run.first.inspection.dhNorm, color: '#999', width: 1.2, dashed: true });
  }
  if (cell === 'lstm') lines.push({ values: ins.dcNorm, color: '#ff7f0e', width: 1.5 });
  lineChart(ui.gradCanvas, { lines, logY: true, cursor: t, xLabel: 't' });
  const g0 = ins.dhNorm[0],
    gT = ins.dhNorm[T];
  ui.gradSummary.textContent =
    `‖dL/dh_0‖ / ‖dL/dh_T‖ = ${(g0 / gT).toExponential(2)}` + (cell === 'lstm' ? ' (orange: ‖dL/dc_t‖)' : '');

  // Forward pass heatmaps: x, h, c, gates.
  if (inputCanvas !== null)
    lineChart(inputCanvas, { lines: [{ values: [NaN, ...ins.x], color: '#1f77b4' }], cursor: t });
  let k = 0;
  heatmap(heatViews[k++].canvas, ins.h, T, H, H, 0, true, t - 1);
  let cMax = 1;
  if (cell === 'lstm') {
    cMax = 0;
    for (const v of ins.c) cMax = Math.max(cMax, Math.abs(v));
    const v = heatViews[k++];
    v.title.textContent = `cell state c_t (÷ max |c| = ${cMax.toFixed(2)})`;
    heatmap(
      v.canvas,
      Array.from(ins.c, (x) => x / (cMax || 1)),
      T,
      H,
      H,
      0,
      true,
      t - 1,
    );
  }
  const names = GATE_NAMES[cell],
    G = names.length;
  names.forEach((name, gi) => {
    const diverging = name === 'g' || name === 'h̃';
    heatmap(heatViews[k++].canvas, ins.gates, T, H, G * H, gi * H, diverging, t - 1);
  });

  // The numbers of step t.
  const row = (label: string, values: ArrayLike<number>, off: number): string => {
    let s = label.padEnd(12);
    for (let j = 0; j < Math.min(H, 12); j++) s += fmt(values[off + j]).padStart(8);
    return s + (H > 12 ? ' …' : '');
  };
  const lines2 = [
    `step t = ${t} of ${T}   x_t = ${ins.x[t - 1].toFixed(3)}   ` +
      `‖dL/dh_t‖ = ${ins.dhNorm[t].toExponential(2)}   ‖dL/dh_{t-1}‖ = ${ins.dhNorm[t - 1].toExponential(2)}`,
    `${'unit j'.padEnd(12)}${Array.from({ length: Math.min(H, 12) }, (_, j) => String(j + 1).padStart(8)).join('')}`,
  ];
  names.forEach((name, gi) => lines2.push(row(name, ins.gates, (t - 1) * G * H + gi * H)));
  if (cell === 'lstm') lines2.push(row('c_t', ins.c, (t - 1) * H));
  lines2.push(row('h_t', ins.h, (t - 1) * H));
  lines2.push(`forecast ŷ = ${ins.yHat.toFixed(3)}, target y = ${ins.y.toFixed(3)}, loss ${ins.loss.toExponential(2)}`);
  ui.readout.textContent = lines2.join('\n');
}

// Start with a first run, so the page shows something on load.
ui.eqForward.textContent = EQUATIONS.lstm.forward;
ui.eqBackward.textContent = EQUATIONS.lstm.backward;
try {
  startTraining();
} catch (err) {
  setStatus(err instanceof Error ? err.message : String(err), true);
}
