/**
 * Training progress on stderr, fed by the Detector's `onEpochEnd`.
 *
 *   terminal   one line redrawn in place:  training lstm-ae  ━━━━━━━━──────  12/30  loss 0.0213  val 0.0250  ETA 0:41
 *   otherwise  one plain line per epoch:   epoch 12/30  loss 0.021300  val_loss 0.025000  0.8s  ETA 41s
 *   --json     one JSON line per epoch, then one at the end (not a terminal): {"progress": {"epoch": 12, "epochs": 30,
 *              "loss": …, "valLoss": …, "seconds": …, "etaSeconds": …}}, {"trained": {"epochs": 12, "of": 30, …}}
 *   quiet      nothing
 *
 * ETA = mean epoch time × epochs left (an upper bound: early stopping may end the run sooner).
 */
import type { EpochLogs } from '../model/sequential.js';

export interface ProgressSink {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export class Progress {
  private seconds = 0;
  private epochs = 0;
  private drawn = false;

  /** `sink` null: quiet. `json`: JSON lines instead of plain ones when the sink is not a terminal. */
  constructor(
    private readonly sink: ProgressSink | null,
    private readonly total: number,
    private readonly label: string,
    private readonly json = false,
  ) {}

  private get tty(): boolean {
    return this.sink?.isTTY === true;
  }

  /** Draws the empty bar before the first epoch (terminal only). */
  start(): void {
    if (this.sink === null || !this.tty) return;
    this.sink.write(`\r\x1b[Ktraining ${this.label}  0/${this.total}  (the first epoch is running)`);
    this.drawn = true;
  }

  /** Called after each epoch. */
  epoch(logs: EpochLogs): void {
    if (this.sink === null) return;
    this.epochs = logs.epoch + 1;
    this.seconds += logs.seconds;
    const left = Math.max(0, this.total - this.epochs);
    const eta = (this.seconds / this.epochs) * left;
    const val = logs.valLoss;
    if (this.tty) {
      const width = Math.max(10, Math.min(30, (this.sink.columns ?? 80) - 70));
      const full = Math.round((width * this.epochs) / Math.max(this.total, 1));
      const bar = '━'.repeat(full) + '─'.repeat(width - full);
      const text =
        `training ${this.label}  ${bar}  ${this.epochs}/${this.total}  loss ${fmt(logs.loss)}` +
        `${val !== undefined ? `  val ${fmt(val)}` : ''}  ETA ${clock(eta)}`;
      this.sink.write(`\r\x1b[K${text}`);
      this.drawn = true;
    } else if (this.json) {
      const p = { model: this.label, epoch: this.epochs, epochs: this.total, loss: logs.loss, valLoss: val ?? null };
      this.sink.write(`${JSON.stringify({ progress: { ...p, seconds: logs.seconds, etaSeconds: eta } })}\n`);
    } else {
      this.sink.write(
        `epoch ${this.epochs}/${this.total}  loss ${logs.loss.toFixed(6)}` +
          `${val !== undefined ? `  val_loss ${val.toFixed(6)}` : ''}  ${logs.seconds.toFixed(1)}s  ETA ${Math.round(eta)}s\n`,
      );
    }
  }

  /** Ends the bar with a summary line: "trained lstm-ae: 12/30 epochs in 9.6 s (early stopping)". */
  end(): void {
    if (this.sink === null) return;
    if (this.drawn) this.sink.write('\r\x1b[K');
    if (this.epochs === 0) return;
    if (this.json && !this.tty) {
      const t = { model: this.label, epochs: this.epochs, of: this.total, seconds: this.seconds };
      this.sink.write(`${JSON.stringify({ trained: { ...t, stoppedEarly: this.epochs < this.total } })}\n`);
      return;
    }
    const early = this.epochs < this.total ? ' (stopped early: the validation loss stopped improving)' : '';
    this.sink.write(
      `trained ${this.label}: ${this.epochs}/${this.total} epochs in ${this.seconds.toFixed(1)} s${early}\n`,
    );
  }
}

function fmt(v: number): string {
  return v >= 0.01 ? v.toFixed(4) : v.toExponential(2);
}

function clock(s: number): string {
  const r = Math.round(s);
  const h = Math.floor(r / 3600),
    m = Math.floor((r % 3600) / 60),
    sec = r % 60;
  return h > 0
    ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
    : `${m}:${String(sec).padStart(2, '0')}`;
}
