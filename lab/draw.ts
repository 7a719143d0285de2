/**
 * Canvas drawing for the lab, by hand: line charts (linear or log y), markers, bands, heatmaps. Every function clears
 * and redraws its whole canvas from the data it is given.
 */

export interface Line {
  values: ArrayLike<number>;
  color: string;
  width?: number;
  /** Draw a dashed line. */
  dashed?: boolean;
}

export interface ChartOptions {
  lines: Line[];
  /** Log-10 y axis (values ≤ 0 are skipped). */
  logY?: boolean;
  /** Fixed y range; default from the data. */
  yMin?: number;
  yMax?: number;
  /** Indices drawn as red dots on the first line. */
  markers?: ArrayLike<number>;
  /** [from, to) index range shaded behind the lines. */
  band?: [number, number];
  /** An index drawn as a vertical cursor line. */
  cursor?: number;
  xLabel?: string;
  yLabel?: string;
}

const PAD = { left: 46, right: 8, top: 8, bottom: 20 };

/** Sizes the canvas's backing store to its CSS size times the device pixel ratio; returns the context and CSS size. */
export function prepare(canvas: HTMLCanvasElement): { ctx: CanvasRenderingContext2D; w: number; h: number } {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || canvas.width,
    h = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext('2d');
  if (ctx === null) throw new Error('the browser gave no 2d canvas context');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  return { ctx, w, h };
}

function tickLabel(v: number, log: boolean): string {
  if (log) return `1e${Math.round(v)}`;
  const a = Math.abs(v);
  return a !== 0 && (a < 0.01 || a >= 1e4) ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}

/** A line chart over index x = 0…len−1 of the longest line. */
export function lineChart(canvas: HTMLCanvasElement, o: ChartOptions): void {
  const { ctx, w, h } = prepare(canvas);
  const log = o.logY === true;
  const tr = (v: number): number => (log ? (v > 0 ? Math.log10(v) : NaN) : v);
  let n = 0,
    lo = Infinity,
    hi = -Infinity;
  for (const l of o.lines) {
    n = Math.max(n, l.values.length);
    for (let i = 0; i < l.values.length; i++) {
      const v = tr(l.values[i]);
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  if (o.yMin !== undefined) lo = tr(o.yMin);
  if (o.yMax !== undefined) hi = tr(o.yMax);
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-12) {
    lo -= log ? 1 : 0.5;
    hi += log ? 1 : 0.5;
  }
  if (log) {
    lo = Math.floor(lo);
    hi = Math.ceil(hi);
  }
  const x0 = PAD.left,
    x1 = w - PAD.right,
    y0 = h - PAD.bottom,
    y1 = PAD.top;
  const X = (i: number): number => x0 + ((x1 - x0) * i) / Math.max(1, n - 1);
  const Y = (v: number): number => y0 - ((y0 - y1) * (v - lo)) / (hi - lo);

  if (o.band !== undefined) {
    ctx.fillStyle = 'rgba(255, 196, 0, 0.18)';
    ctx.fillRect(X(o.band[0]), y1, X(o.band[1]) - X(o.band[0]), y0 - y1);
  }
  // Axes and y ticks.
  ctx.strokeStyle = '#bbb';
  ctx.lineWidth = 1;
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillStyle = '#555';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const ticks = log ? Math.min(hi - lo, 6) : 4;
  for (let k = 0; k <= ticks; k++) {
    const v = lo + ((hi - lo) * k) / ticks;
    const y = Y(v);
    ctx.beginPath();
    ctx.moveTo(x0, y);
    ctx.lineTo(x1, y);
    ctx.strokeStyle = '#eee';
    ctx.stroke();
    ctx.fillText(tickLabel(v, log), x0 - 4, y);
  }
  ctx.strokeStyle = '#999';
  ctx.strokeRect(x0, y1, x1 - x0, y0 - y1);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  if (o.xLabel !== undefined) ctx.fillText(o.xLabel, (x0 + x1) / 2, y0 + 5);
  ctx.textAlign = 'left';
  ctx.fillText(`0`, x0, y0 + 5);
  ctx.textAlign = 'right';
  ctx.fillText(String(n - 1), x1, y0 + 5);

  for (const l of o.lines) {
    ctx.strokeStyle = l.color;
    ctx.lineWidth = l.width ?? 1.5;
    ctx.setLineDash(l.dashed === true ? [4, 3] : []);
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < l.values.length; i++) {
      const v = tr(l.values[i]);
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      const px = X(i),
        py = Y(Math.min(hi, Math.max(lo, v)));
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      pen = true;
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
  if (o.markers !== undefined && o.lines.length > 0) {
    const first = o.lines[0].values;
    ctx.fillStyle = '#d62728';
    for (let k = 0; k < o.markers.length; k++) {
      const i = o.markers[k];
      const v = tr(first[i]);
      if (!Number.isFinite(v)) continue;
      ctx.beginPath();
      ctx.arc(X(i), Y(v), 4, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  if (o.cursor !== undefined) {
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(X(o.cursor), y1);
    ctx.lineTo(X(o.cursor), y0);
    ctx.stroke();
  }
  if (o.yLabel !== undefined) {
    ctx.save();
    ctx.translate(10, (y0 + y1) / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#555';
    ctx.fillText(o.yLabel, 0, 0);
    ctx.restore();
  }
}

/** A colour for v: diverging blue–white–red over [−1, 1], or white–green over [0, 1]. */
export function colour(v: number, diverging: boolean): string {
  if (!Number.isFinite(v)) return '#888';
  if (diverging) {
    const a = Math.max(-1, Math.min(1, v));
    const k = Math.round(255 * (1 - Math.abs(a)));
    return a >= 0 ? `rgb(255,${k},${k})` : `rgb(${k},${k},255)`;
  }
  const a = Math.max(0, Math.min(1, v));
  const k = Math.round(255 * (1 - a));
  return `rgb(${k},${Math.round(255 - 120 * a)},${k})`;
}

/**
 * A heatmap of data[T, stride] (columns col0…col0+H−1 of each row): time along x, unit along y; `cursor` outlines
 * column t.
 */
export function heatmap(
  canvas: HTMLCanvasElement,
  data: ArrayLike<number>,
  T: number,
  H: number,
  stride: number,
  col0: number,
  diverging: boolean,
  cursor: number,
): void {
  const { ctx, w, h } = prepare(canvas);
  const left = 18,
    top = 2,
    cw = (w - left - 2) / T,
    ch = (h - top - 2) / H;
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < H; j++) {
      ctx.fillStyle = colour(data[t * stride + col0 + j], diverging);
      ctx.fillRect(left + t * cw, top + j * ch, Math.ceil(cw), Math.ceil(ch));
    }
  }
  ctx.fillStyle = '#555';
  ctx.font = '9px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'top';
  ctx.fillText('1', left - 3, top);
  ctx.textBaseline = 'bottom';
  ctx.fillText(String(H), left - 3, top + H * ch);
  if (cursor >= 0 && cursor < T) {
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 2;
    ctx.strokeRect(left + cursor * cw, top, cw, H * ch);
  }
}
