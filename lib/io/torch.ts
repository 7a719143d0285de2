/**
 * PyTorch weights onto a bptt model: the state dict of nn.LSTM / nn.GRU / nn.RNN / nn.Linear modules, read from a
 * .safetensors file (lib/io/safetensors.ts) or given as a Map of { shape, data }, is copied into a built Sequential
 * whose architecture the caller has written to match. Nothing about the architecture is read from the file except
 * what the weights' names and shapes say; they must fit the model, and what does not fit is named.
 *
 * Symbols: D input features, H hidden units, k the nn.LSTM/GRU/RNN layer index (l0, l1, …), x·W products with the
 * Keras layouts bptt uses (kernel [D, G·H], recurrent_kernel [H, G·H]). PyTorch stores weights [out, in]: every
 * matrix below is transposed on the way in, and gate blocks are moved where bptt expects them.
 *
 *   PyTorch key (shape)                        bptt parameter (shape)              mapping
 *   ------------------------------------------ ----------------------------------- -------------------------------------------
 *   nn.LSTM  weight_ih_lk   [4H, D]  i|f|g|o    kernel            [D, 4H]  i|f|c|o   kernel = weight_ihᵀ (same gate order)
 *            weight_hh_lk   [4H, H]             recurrent_kernel  [H, 4H]            recurrent_kernel = weight_hhᵀ
 *            bias_ih_lk, bias_hh_lk [4H]        bias              [4H]               bias = bias_ih + bias_hh
 *   nn.GRU   weight_ih_lk   [3H, D]  r|z|n      kernel            [D, 3H]  z|r|h     kernel = weight_ihᵀ, blocks (r,z,n) → (z,r,h)
 *            weight_hh_lk   [3H, H]  r|z|n      recurrent_kernel  [H, 3H]  z|r|h     recurrent_kernel = weight_hhᵀ, same reorder
 *            bias_ih_lk     [3H]     r|z|n      bias              [2, 3H]  z|r|h     row 0 = bias_ih reordered (input bias)
 *            bias_hh_lk     [3H]     r|z|n                                           row 1 = bias_hh reordered (recurrent bias)
 *   nn.RNN   weight_ih_lk   [H, D]              kernel            [D, H]             kernel = weight_ihᵀ
 *            weight_hh_lk   [H, H]              recurrent_kernel  [H, H]             recurrent_kernel = weight_hhᵀ
 *            bias_ih_lk, bias_hh_lk [H]         bias              [H]                bias = bias_ih + bias_hh
 *   …_lk_reverse (bidirectional=True)           the backward copy of a bidirectional(...) layer (the forward copy takes …_lk)
 *   l0, l1, … (num_layers > 1)                  consecutive recurrent layers of the bptt model, l0 first
 *   nn.Linear weight [out, in], bias [out]      dense / timeDistributed(dense): kernel [in, out] = weightᵀ, bias = bias
 *   bias=False (no bias keys)                   bias = 0 (exact: PyTorch adds nothing)
 *
 * Why these are the same functions (PyTorch's documented equations, σ = sigmoid):
 *   LSTM  i,f,g,o = σ,σ,tanh,σ(W_i· x + b_i· + W_h· h + b_h·);  c' = f⊙c + i⊙g;  h' = o⊙tanh(c')    — Keras's LSTM with one bias
 *   GRU   r = σ(W_ir x + b_ir + W_hr h + b_hr);  z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *         n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn));  h' = (1 − z)⊙n + z⊙h                      — Keras's reset_after GRU
 *   RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)   (nonlinearity='relu': relu)
 * So the bptt layers must be: lstm/gru with activation 'tanh' and recurrentActivation 'sigmoid' (set it: it is the
 * default here but not in TensorFlow.js), gru with resetAfter true, simpleRNN with activation 'tanh' or 'relu' (as
 * nonlinearity), none with goBackwards. The weights cannot tell nonlinearity='relu' from 'tanh'; the model decides.
 * Outputs: returnSequences true is PyTorch's `output`; false is its last step, h_n[-1] (bidirectional: [h_n[-2], h_n[-1]],
 * the two directions' final states, as Keras's Bidirectional; this is not output[:, -1]). batch_first does not change
 * the weights; bptt input is always batch-major [N, T, D]. Inter-layer dropout of a multi-layer nn.LSTM is training-only.
 *
 * Which module feeds which layer: the state dict's modules (key prefixes before the last '.', e.g. 'encoder' for
 * 'encoder.weight_ih_l0'; '' for a bare module's state dict) are expanded into layers (each lk, each Linear) and paired
 * with the model's parameterised layers in order. A safetensors file does not record the order in which the network
 * applies its modules (the reference writer orders tensors by dtype, then name): give `mapping.modules` (prefixes, in application order), or let the loader
 * find the one order whose types and shapes fit the model (it refuses when none or several do, naming them).
 * Every tensor must be used (or `mapping.allowUnused`), every parameterised layer filled. Nothing is written into the
 * model unless everything fits.
 *
 * @example
 * ```text
 * // torch: class AE(nn.Module): enc = nn.LSTM(1, 16, batch_first=True); dec = nn.LSTM(16, 16, ...); out = nn.Linear(16, 1)
 * const m = new Sequential([lstm({ units: 16 }), repeatVector({ n: 32 }), lstm({ units: 16, returnSequences: true }),
 *                           timeDistributed(dense({ units: 1 }))]).build([32, 1]);
 * await loadTorchSafetensors(m, 'ae.safetensors', { modules: ['enc', 'dec', 'out'] });
 * // → [{ layer: 'lstm', source: "'enc' (nn.LSTM l0, input 1, hidden 16)" }, { layer: 'lstm_1', source: "'dec' (nn.LSTM l0, …)" }, …]
 * ```
 */
import { Bidirectional } from '../model/layers/bidirectional.js';
import { Dense, TimeDistributed } from '../model/layers/dense.js';
import { type Layer, type Param } from '../model/layers/layer.js';
import { Recurrent } from '../model/layers/recurrent.js';
import { isModel, type ModelSource } from './model-view.js';
import { readSafetensorsFile, readSafetensorsFileSync } from './safetensors.js';
import { ArgumentError } from '../errors.js';
import { withSource } from './json.js';
import { fileHost } from '../host.js';

/** A tensor of a state dict: row-major data of ∏shape numbers. */
export interface TorchTensor {
  /** The tensor's shape, as PyTorch reports it ([4H, D] for weight_ih_l0). */
  shape: readonly number[];
  /** Its values, row-major. */
  data: ArrayLike<number>;
}

/** How the state dict's modules map onto the model's layers (see {@link loadTorchStateDict}). */
export interface TorchMapping {
  /** Module prefixes of the state dict in the order the network applies them ('' for a bare module). */
  modules?: string[];
  /** With `modules`: leave the tensors of modules not listed instead of failing. Default false. */
  allowUnused?: boolean;
}

/** Which PyTorch module (and layer index) filled which bptt layer. */
export interface TorchAssignment {
  /** The bptt layer's name. */
  layer: string;
  /** The PyTorch module that filled it, described ("'enc' (nn.LSTM l0, input 1, hidden 16)"). */
  source: string;
}

type Cell = 'LSTM' | 'GRU' | 'SimpleRNN';
const TORCH_NAME: Record<Cell, string> = { LSTM: 'nn.LSTM', GRU: 'nn.GRU', SimpleRNN: 'nn.RNN' };
const GATES: Record<Cell, number> = { LSTM: 4, GRU: 3, SimpleRNN: 1 };
/** Keras gate block g takes PyTorch block PERM[g]. GRU: Keras z|r|h ← PyTorch r|z|n. */
const PERM: Record<Cell, readonly number[]> = { LSTM: [0, 1, 2, 3], GRU: [1, 0, 2], SimpleRNN: [0] };

interface Direction {
  wih: TorchTensor;
  whh: TorchTensor;
  bih: TorchTensor | null;
  bhh: TorchTensor | null;
  keys: string[];
}

/** One PyTorch layer: an lk of a recurrent module (one or two directions), or a Linear. */
type Unit =
  | { kind: 'recurrent'; module: string; cell: Cell; k: number; D: number; H: number; dirs: Direction[]; label: string }
  | {
      kind: 'linear';
      module: string;
      inF: number;
      outF: number;
      weight: TorchTensor;
      bias: TorchTensor | null;
      keys: string[];
      label: string;
    };

interface Module {
  prefix: string;
  units: Unit[];
  keys: string[];
}

function shapeStr(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

function display(prefix: string): string {
  return prefix === '' ? "'' (the root module)" : `'${prefix}'`;
}

function join(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

const RNN_KEY = /^(weight|bias)_(ih|hh)_l(\d+)(_reverse)?$/;

function parseModule(prefix: string, params: Map<string, TorchTensor>): Module {
  const where = `loadTorchStateDict: module ${display(prefix)}`;
  const keys = [...params.keys()].map((k) => join(prefix, k)).sort();
  const names = [...params.keys()];
  if (names.some((n) => /^weight_hr_l\d+/.test(n)))
    throw ArgumentError.problem(where, `nn.LSTM with proj_size is not supported (${keys.join(', ')})`);
  if (names.every((n) => RNN_KEY.test(n))) {
    let layers = 0;
    let reverse = false;
    for (const n of names) {
      const m = RNN_KEY.exec(n) as RegExpExecArray;
      const k = Number(m[3]);
      layers = Math.max(layers, k + 1);
      if (m[4]) reverse = true;
    }
    const get = (n: string): TorchTensor | null => params.get(n) ?? null;
    let cell: Cell | null = null;
    let hasBias: boolean | null = null;
    const units: Unit[] = [];
    for (let k = 0; k < layers; k++) {
      const dirs: Direction[] = [];
      let D = -1,
        H = -1;
      for (const suffix of reverse ? ['', '_reverse'] : ['']) {
        const name = (w: string): string => `${w}_l${k}${suffix}`;
        const wih = get(name('weight_ih')),
          whh = get(name('weight_hh'));
        const bih = get(name('bias_ih')),
          bhh = get(name('bias_hh'));
        if (wih === null || whh === null) {
          throw ArgumentError.problem(
            where,
            `${join(prefix, name(wih === null ? 'weight_ih' : 'weight_hh'))} is missing ` +
              `(the module has ${keys.join(', ')})`,
          );
        }
        if ((bih === null) !== (bhh === null) || (hasBias !== null && hasBias !== (bih !== null))) {
          throw ArgumentError.problem(
            where,
            `expected both bias_ih and bias_hh for every layer, or none (bias=False); got ${keys.join(', ')}`,
          );
        }
        hasBias = bih !== null;
        if (whh.shape.length !== 2 || wih.shape.length !== 2) {
          throw ArgumentError.problem(
            where,
            `${join(prefix, name('weight_ih'))} ${shapeStr(wih.shape)} and ${join(prefix, name('weight_hh'))} ` +
              `${shapeStr(whh.shape)} must be matrices`,
          );
        }
        const h = whh.shape[1],
          gh = whh.shape[0];
        const g = h > 0 ? gh / h : 0;
        const c: Cell | null = g === 4 ? 'LSTM' : g === 3 ? 'GRU' : g === 1 ? 'SimpleRNN' : null;
        if (c === null) {
          throw ArgumentError.problem(
            where,
            `${join(prefix, name('weight_hh'))} has shape ${shapeStr(whh.shape)}; expected [G·H, H] with ` +
              'G = 4 (nn.LSTM), 3 (nn.GRU) or 1 (nn.RNN)',
          );
        }
        if (cell !== null && c !== cell)
          throw ArgumentError.problem(
            where,
            `layers disagree on the cell type (${TORCH_NAME[cell]} and ${TORCH_NAME[c]})`,
          );
        cell = c;
        if (wih.shape[0] !== gh) {
          throw ArgumentError.problem(
            where,
            `${join(prefix, name('weight_ih'))} has shape ${shapeStr(wih.shape)}, expected [${gh}, D] to match ` +
              `${join(prefix, name('weight_hh'))} ${shapeStr(whh.shape)}`,
          );
        }
        for (const [b, bn] of [
          [bih, 'bias_ih'],
          [bhh, 'bias_hh'],
        ] as const) {
          if (b !== null && shapeStr(b.shape) !== shapeStr([gh])) {
            throw ArgumentError.problem(
              where,
              `${join(prefix, name(bn))} has shape ${shapeStr(b.shape)}, expected [${gh}]`,
            );
          }
        }
        if (D >= 0 && (wih.shape[1] !== D || h !== H)) {
          throw ArgumentError.problem(where, `the two directions of layer l${k} have different shapes`);
        }
        D = wih.shape[1];
        H = h;
        dirs.push({
          wih,
          whh,
          bih,
          bhh,
          keys: [name('weight_ih'), name('weight_hh'), ...(bih ? [name('bias_ih'), name('bias_hh')] : [])].map((x) =>
            join(prefix, x),
          ),
        });
      }
      const c = cell as Cell;
      units.push({
        kind: 'recurrent',
        module: prefix,
        cell: c,
        k,
        D,
        H,
        dirs,
        label: `${display(prefix)} (${TORCH_NAME[c]} l${k}${reverse ? ', bidirectional' : ''}, input ${D}, hidden ${H})`,
      });
    }
    const counted = units.reduce(
      (s, u) => s + (u.kind === 'recurrent' ? u.dirs.reduce((a, d) => a + d.keys.length, 0) : 0),
      0,
    );
    if (counted !== names.length) {
      throw ArgumentError.problem(
        where,
        `unexpected keys for an ${TORCH_NAME[cell as Cell]} with ${layers} layer(s)${reverse ? ', bidirectional' : ''}: ${keys.join(', ')}`,
      );
    }
    return { prefix, units, keys };
  }
  const w = params.get('weight'),
    b = params.get('bias') ?? null;
  if (w !== undefined && names.every((n) => n === 'weight' || n === 'bias') && w.shape.length === 2) {
    const outF = w.shape[0],
      inF = w.shape[1];
    if (b !== null && shapeStr(b.shape) !== shapeStr([outF])) {
      throw ArgumentError.problem(
        where,
        `${join(prefix, 'bias')} has shape ${shapeStr(b.shape)}, expected [${outF}] to match ${join(prefix, 'weight')} ${shapeStr(w.shape)}`,
      );
    }
    return {
      prefix,
      keys,
      units: [
        {
          kind: 'linear',
          module: prefix,
          inF,
          outF,
          weight: w,
          bias: b,
          keys,
          label: `${display(prefix)} (nn.Linear ${inF} → ${outF})`,
        },
      ],
    };
  }
  const shown = names.map((n) => `${join(prefix, n)} ${shapeStr((params.get(n) as TorchTensor).shape)}`).join(', ');
  throw ArgumentError.problem(`${where} is not an nn.LSTM, nn.GRU, nn.RNN or nn.Linear state dict`, shown);
}

/** Natural order: digit runs compare as numbers ('2' < '10'), so nn.Sequential's '0', '1', … come in order. */
function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [],
    tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i],
      y = tb[i];
    const nx = /^\d/.test(x) && /^\d/.test(y);
    const c = nx ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return c;
  }
  return ta.length - tb.length;
}

function parameterised(model: ModelSource): Layer[] {
  return model.layers.filter((l) => l.params().length > 0);
}

function describeLayer(l: Layer): string {
  if (l instanceof Bidirectional)
    return `'${l.name}' (Bidirectional ${l.forwardLayer.className}, units ${l.forwardLayer.units})`;
  if (l instanceof Recurrent) return `'${l.name}' (${l.className}, units ${l.units})`;
  if (l instanceof TimeDistributed) return `'${l.name}' (TimeDistributed Dense, units ${l.layer.units})`;
  if (l instanceof Dense) return `'${l.name}' (Dense, units ${l.units})`;
  return `'${l.name}' (${l.className})`;
}

/** Why unit u cannot fill layer l, or null if it can. */
function misfit(u: Unit, l: Layer): string | null {
  const target = `layer ${describeLayer(l)}`;
  if (u.kind === 'linear') {
    const d = l instanceof TimeDistributed ? l.layer : l instanceof Dense ? l : null;
    if (d === null) return `${target} cannot take ${u.label}: nn.Linear maps onto dense or timeDistributed(dense)`;
    const kernel = d.params()[0];
    const want = shapeStr([u.inF, u.outF]);
    if (shapeStr(kernel.shape) !== want) {
      return `${target} has kernel ${shapeStr(kernel.shape)}; ${u.label} needs ${want} (weight ${shapeStr([u.outF, u.inF])} transposed)`;
    }
    if (u.bias !== null && !d.useBias) return `${target} has useBias false; ${u.label} has a bias`;
    return null;
  }
  const bi = l instanceof Bidirectional;
  const r = l instanceof Bidirectional ? l.forwardLayer : l instanceof Recurrent ? l : null;
  const torchBi = u.dirs.length === 2;
  if (r === null)
    return `${target} cannot take ${u.label}: ${TORCH_NAME[u.cell]} maps onto ${u.cell === 'SimpleRNN' ? 'simpleRNN' : u.cell.toLowerCase()}`;
  if (r.className !== u.cell) return `${target} is ${r.className}; ${u.label} is ${TORCH_NAME[u.cell]}`;
  if (bi !== torchBi) {
    return `${target} ${bi ? 'is' : 'is not'} bidirectional; ${u.label} ${torchBi ? 'has' : 'has no'} _reverse weights`;
  }
  const kernel = r.params()[0];
  const D = kernel.shape[0];
  if (D !== u.D || r.units !== u.H)
    return `${target} has input ${D} and ${r.units} units; ${u.label} has input ${u.D} and hidden ${u.H}`;
  return null;
}

/** Options of a layer that PyTorch's module cannot express (checked once the pairing is fixed). */
function unsupported(u: Unit, l: Layer): string | null {
  if (u.kind === 'linear') return null;
  const r = l instanceof Bidirectional ? l.forwardLayer : (l as Recurrent);
  const target = `layer ${describeLayer(l)}`;
  if (r.className === 'SimpleRNN') {
    if (r.activation !== 'tanh' && r.activation !== 'relu')
      return `${target} has activation ${r.activation}; nn.RNN has tanh or relu`;
  } else {
    if (r.activation !== 'tanh')
      return `${target} has activation ${r.activation}; ${TORCH_NAME[r.className]} uses tanh`;
    if (r.recurrentActivation !== 'sigmoid')
      return `${target} has recurrentActivation ${r.recurrentActivation}; ${TORCH_NAME[r.className]} uses sigmoid`;
  }
  if (r.className === 'GRU' && !r.resetAfter) {
    return `${target} has resetAfter false; nn.GRU applies the reset gate after the recurrent product: build it with gru({ resetAfter: true })`;
  }
  if (r.goBackwards) return `${target} has goBackwards true; ${TORCH_NAME[r.className]} has no such option`;
  return null;
}

/** Every order of the modules whose units fit the layers; stops after two. */
function orders(modules: Module[], layers: Layer[]): Module[][] {
  const found: Module[][] = [];
  const used = new Array<boolean>(modules.length).fill(false);
  const chosen: Module[] = [];
  let budget = 200000;
  const go = (at: number): void => {
    if (found.length >= 2 || --budget < 0) return;
    if (chosen.length === modules.length) {
      if (at === layers.length) found.push(chosen.slice());
      return;
    }
    modules.forEach((m, i) => {
      if (used[i] || found.length >= 2) return;
      if (at + m.units.length > layers.length) return;
      if (!m.units.every((u, j) => misfit(u, layers[at + j]) === null)) return;
      used[i] = true;
      chosen.push(m);
      go(at + m.units.length);
      chosen.pop();
      used[i] = false;
    });
  };
  go(0);
  return found;
}

function values(t: TorchTensor, key: string): ArrayLike<number> {
  const n = t.shape.reduce((a, d) => a * d, 1);
  if (t.data.length !== n)
    throw ArgumentError.problem(
      'loadTorchStateDict',
      `${key}: shape ${shapeStr(t.shape)} needs ${n} values, data has ${t.data.length}`,
    );
  for (let i = 0; i < n; i++) {
    const v = t.data[i];
    if (!Number.isFinite(v))
      throw ArgumentError.problem('loadTorchStateDict', `${key} has a non-finite value ${v} at index ${i}`);
  }
  return t.data;
}

/** kernel [D, G·H] and recurrent_kernel [H, G·H] from weight_ih [G·H, D] and weight_hh [G·H, H], gate blocks permuted. */
function recurrentValues(
  cell: Cell,
  d: Direction,
  D: number,
  H: number,
): { W: Float64Array; U: Float64Array; b: Float64Array } {
  const G = GATES[cell],
    GH = G * H,
    perm = PERM[cell];
  const wih = values(d.wih, d.keys[0]),
    whh = values(d.whh, d.keys[1]);
  const bih = d.bih ? values(d.bih, d.keys[2]) : null,
    bhh = d.bhh ? values(d.bhh, d.keys[3]) : null;
  const W = new Float64Array(D * GH),
    U = new Float64Array(H * GH);
  const b = new Float64Array(cell === 'GRU' ? 2 * GH : GH);
  for (let g = 0; g < G; g++) {
    const src = perm[g] * H;
    for (let j = 0; j < H; j++) {
      const row = src + j,
        col = g * H + j;
      for (let k = 0; k < D; k++) W[k * GH + col] = wih[row * D + k];
      for (let k = 0; k < H; k++) U[k * GH + col] = whh[row * H + k];
      const bi = bih ? bih[row] : 0,
        bh = bhh ? bhh[row] : 0;
      if (cell === 'GRU') {
        b[col] = bi;
        b[GH + col] = bh;
      } else {
        b[col] = bi + bh;
      }
    }
  }
  return { W, U, b };
}

function plan(u: Unit, l: Layer, out: Map<Param, Float64Array>): void {
  if (u.kind === 'linear') {
    const d = l instanceof TimeDistributed ? l.layer : (l as Dense);
    const [kernel, bias] = d.params() as [Param, Param | undefined];
    const w = values(u.weight, join(u.module, 'weight'));
    const K = new Float64Array(u.inF * u.outF);
    for (let o = 0; o < u.outF; o++) for (let i = 0; i < u.inF; i++) K[i * u.outF + o] = w[o * u.inF + i];
    out.set(kernel, K);
    if (bias !== undefined)
      out.set(bias, u.bias ? Float64Array.from(values(u.bias, join(u.module, 'bias'))) : new Float64Array(u.outF));
    return;
  }
  const copies = l instanceof Bidirectional ? [l.forwardLayer, l.backwardLayer] : [l as Recurrent];
  copies.forEach((r, i) => {
    const { W, U, b } = recurrentValues(u.cell, u.dirs[i], u.D, u.H);
    const [pk, pu, pb] = r.params() as [Param, Param, Param];
    out.set(pk, W);
    out.set(pu, U);
    out.set(pb, b);
  });
}

function toMap(
  tensors: ReadonlyMap<string, TorchTensor> | Readonly<Record<string, TorchTensor>>,
): Map<string, TorchTensor> {
  const entries =
    tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, TorchTensor>);
  const m = new Map<string, TorchTensor>();
  for (const [k, t] of entries) {
    if (
      typeof t !== 'object' ||
      t === null ||
      !Array.isArray(t.shape) ||
      typeof t.data !== 'object' ||
      t.data === null
    ) {
      throw ArgumentError.problem('loadTorchStateDict', `tensor '${k}' must be { shape, data }`);
    }
    m.set(k, t);
  }
  return m;
}

/** The model must be a built bptt model (its weight shapes are what the state dict is matched against). */
function checkTarget(model: ModelSource): void {
  if (!isModel(model)) throw ArgumentError.problem('loadTorchStateDict(model)', 'expected a Sequential');
  if (!model.built)
    throw ArgumentError.problem(
      'loadTorchStateDict',
      'build the model first (model.build([T, D])) so that its weight shapes are known',
    );
}

/**
 * Copies a PyTorch state dict into a built model (see the file comment for the mapping and the checks).
 * Returns which module filled which layer. Throws, leaving the model untouched, when anything does not fit.
 *
 * @param model - A built model whose layers match the PyTorch modules.
 * @param tensors - The state dict: name → { shape, data } (a Map or an object).
 * @param mapping - modules (prefixes in the order the network applies them) and allowUnused.
 * @returns Which module filled which layer, in layer order.
 * @throws {@link ArgumentError} when the model is not built, a tensor is malformed, or the state dict does not fit the
 * model (a missing, unused or mis-shaped tensor; no or several module orders fit).
 * @example
 * ```ts
 * import { Sequential, dense, loadTorchStateDict } from 'bptt';
 * import assert from 'node:assert/strict';
 *
 * // torch: nn.Linear(2, 1) with weight [[2, 3]] and bias [1]; its state dict keys are 'weight' and 'bias'.
 * const model = new Sequential([dense({ units: 1, inputShape: [2] })]).build();
 * const assigned = loadTorchStateDict(model, {
 *   weight: { shape: [1, 2], data: [2, 3] },
 *   bias: { shape: [1], data: [1] },
 * });
 * assert.equal(assigned.length, 1);
 * assert.equal(model.predict([[1, 1]]).get(0, 0), 6); // 2 + 3 + 1
 * ```
 */
export function loadTorchStateDict(
  model: ModelSource,
  tensors: ReadonlyMap<string, TorchTensor> | Readonly<Record<string, TorchTensor>>,
  mapping: TorchMapping = {},
): TorchAssignment[] {
  checkTarget(model);
  const all = toMap(tensors);
  const groups = new Map<string, Map<string, TorchTensor>>();
  for (const [key, t] of all) {
    const dot = key.lastIndexOf('.');
    const prefix = dot < 0 ? '' : key.slice(0, dot);
    let g = groups.get(prefix);
    if (g === undefined) groups.set(prefix, (g = new Map()));
    g.set(key.slice(dot + 1), t);
  }
  const layers = parameterised(model);
  let modules: Module[];
  if (mapping.modules !== undefined) {
    if (!Array.isArray(mapping.modules) || !mapping.modules.every((m) => typeof m === 'string')) {
      throw ArgumentError.problem('loadTorchStateDict(mapping.modules)', 'expected a list of module prefixes');
    }
    modules = mapping.modules.map((p) => {
      const g = groups.get(p);
      if (g === undefined) {
        throw ArgumentError.problem(
          'loadTorchStateDict(mapping.modules)',
          `no tensors under ${display(p)}; the state dict has modules ` + [...groups.keys()].map(display).join(', '),
        );
      }
      return parseModule(p, g);
    });
    if (new Set(mapping.modules).size !== mapping.modules.length)
      throw ArgumentError.problem('loadTorchStateDict(mapping.modules)', 'a module is listed twice');
    const unused = [...groups.keys()].filter((p) => !mapping.modules?.includes(p));
    if (unused.length > 0 && !(mapping.allowUnused ?? false)) {
      throw ArgumentError.problem(
        'loadTorchStateDict',
        `tensors of ${unused.map(display).join(', ')} are not used (${unused
          .flatMap((p) => [...(groups.get(p) as Map<string, TorchTensor>).keys()].map((k) => join(p, k)).sort())
          .join(', ')}); list the module or pass allowUnused`,
      );
    }
  } else {
    modules = [...groups.keys()]
      .sort(naturalCompare)
      .map((p) => parseModule(p, groups.get(p) as Map<string, TorchTensor>));
  }

  const units = modules.flatMap((m) => m.units);
  const listLayers = (): string => layers.map(describeLayer).join(', ');
  const listUnits = (ms: Module[]): string => ms.flatMap((m) => m.units.map((u) => u.label)).join(', ');
  if (units.length !== layers.length) {
    throw ArgumentError.problem(
      'loadTorchStateDict',
      `the model has ${layers.length} layers with weights (${listLayers()}); the state dict ` +
        `has ${units.length} (${listUnits(modules)})`,
    );
  }
  if (mapping.modules === undefined) {
    const fits = orders(modules, layers);
    if (fits.length !== 1) {
      const natural = units.map((u, i) => misfit(u, layers[i])).find((m) => m !== null);
      throw ArgumentError.problem(
        'loadTorchStateDict',
        fits.length === 0
          ? `loadTorchStateDict: no order of the modules ${modules.map((m) => display(m.prefix)).join(', ')} fits the model's layers ` +
              `(${listLayers()})${natural ? `; in name order: ${natural}` : ''}`
          : `loadTorchStateDict: the modules fit the model in more than one order (${fits.map((f) => f.map((m) => display(m.prefix)).join(' → ')).join('; ')}); ` +
              'pass mapping.modules in the order the network applies them',
      );
    }
    modules = fits[0];
  }
  const ordered = modules.flatMap((m) => m.units);
  const out = new Map<Param, Float64Array>();
  const assignments: TorchAssignment[] = [];
  ordered.forEach((u, i) => {
    const l = layers[i];
    const why = misfit(u, l) ?? unsupported(u, l);
    if (why !== null) throw ArgumentError.problem('loadTorchStateDict', why);
    plan(u, l, out);
    assignments.push({ layer: l.name, source: u.label });
  });
  for (const [p, v] of out) p.value.set(v);
  return assignments;
}

/**
 * Reads a .safetensors file and loads it with `loadTorchStateDict`. A state dict that does not fit the model is a
 * ModelFileError naming the file (the model itself is checked first: a model that is not built is an ArgumentError).
 * Node only.
 *
 * @param model - A built model whose layers match the PyTorch modules.
 * @param file - A .safetensors file (`safetensors.torch.save_file(model.state_dict(), file)`).
 * @param mapping - modules (prefixes in the order the network applies them) and allowUnused.
 * @returns A promise of which module filled which layer.
 * @throws {@link ArgumentError} when the model is not built.
 * @throws {@link ModelFileError} (the promise rejects) when the file cannot be read or parsed, or does not fit the
 * model.
 * @example
 * ```ts
 * import { Sequential, dense, loadTorchSafetensors } from 'bptt';
 * import assert from 'node:assert/strict';
 * import * as fs from 'node:fs';
 * import * as os from 'node:os';
 * import * as path from 'node:path';
 *
 * // A safetensors file: 8-byte header length, JSON header, then the raw little-endian float32 data.
 * const header = Buffer.from(
 *   JSON.stringify({
 *     'out.weight': { dtype: 'F32', shape: [1, 2], data_offsets: [0, 8] },
 *     'out.bias': { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
 *   }),
 * );
 * const size = Buffer.alloc(8);
 * size.writeBigUInt64LE(BigInt(header.length));
 * const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-pt-')), 'linear.safetensors');
 * fs.writeFileSync(file, Buffer.concat([size, header, Buffer.from(Float32Array.of(2, 3, 1).buffer)]));
 *
 * const model = new Sequential([dense({ units: 1, inputShape: [2] })]).build();
 * const assigned = await loadTorchSafetensors(model, file, { modules: ['out'] });
 * assert.equal(assigned[0].layer, 'dense');
 * assert.equal(model.predict([[1, 1]]).get(0, 0), 6);
 * ```
 */
export async function loadTorchSafetensors(
  model: ModelSource,
  file: string,
  mapping: TorchMapping = {},
): Promise<TorchAssignment[]> {
  checkTarget(model);
  fileHost('loadTorchSafetensors(path)', 'reads a file');
  const { tensors } = await readSafetensorsFile(file);
  return withSource(file, () => loadTorchStateDict(model, tensors, mapping));
}

/**
 * {@link loadTorchSafetensors}, synchronous. Node only.
 *
 * @param model - A built model whose layers match the PyTorch modules.
 * @param file - A .safetensors file.
 * @param mapping - modules and allowUnused.
 * @returns Which module filled which layer.
 * @throws {@link ArgumentError} when the model is not built.
 * @throws {@link ModelFileError} when the file cannot be read or parsed, or does not fit the model.
 */
export function loadTorchSafetensorsSync(
  model: ModelSource,
  file: string,
  mapping: TorchMapping = {},
): TorchAssignment[] {
  checkTarget(model);
  fileHost('loadTorchSafetensorsSync(path)', 'reads a file');
  const { tensors } = readSafetensorsFileSync(file);
  return withSource(file, () => loadTorchStateDict(model, tensors, mapping));
}
