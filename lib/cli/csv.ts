/**
 * CSV input for the command line, RFC 4180 style: a header row, then one record per line; fields separated by the
 * delimiter (',' unless the header line has more ';' or tabs); a field in double quotes may hold delimiters, line breaks
 * and doubled quotes ("" for "); lines end in LF or CRLF; a UTF-8 byte-order mark is skipped; blank lines are skipped.
 *
 *   CsvReader      reads records one at a time from a file in 1 MiB chunks (constant memory: `bptt score` streams with it);
 *                  the file `-` is stdin, read to its end and named `<stdin>` in messages
 *   detectSchema   which column is the time, which are values, from the header and the first rows
 *   readTable      a whole file into a Table (typed arrays), with every check a new user needs (see below)
 *
 * Checks, each an error that names the file, the line and the column: a missing or empty file, a header without rows,
 * a record with more or fewer fields than the header (ragged), a value cell that is not a number (an empty cell is a
 * missing value) or a number beyond the range of a double (1e400), an empty or unreadable timestamp. Finite values of
 * any size (1e300) are read as they are; the detector saturates its normalised values (lib/detect/preprocess.ts).
 * A value is parsed once from its text into the table's Float64Array [n, F] (a view of it reaches the library: no
 * copy unless the rows are reordered). Whether a column has values, and enough rows for the model, the library checks
 * at its door (lib/tensor.ts readSeries, the Detector). Warnings (returned, never silent): empty cells (filled later by
 * interpolation), rows out of time order (sorted, stably), duplicate timestamps (the first row of each is kept),
 * non-numeric columns that were left out.
 */
import * as fs from 'fs';
import { StringDecoder } from 'string_decoder';
import { UserError, CsvError, fsMessage } from './errors.js';
import { NUMBER, timeParser, type TimeKind } from './time.js';

export interface CsvRecord {
  fields: string[];
  /** 1-based line number where the record starts. */
  line: number;
}

const CHUNK = 1 << 20;

/** The input file name that means stdin. */
export const STDIN = '-';

/** How messages name an input file: `<stdin>` for `-`, else the path as given. */
export function inputName(file: string): string {
  return file === STDIN ? '<stdin>' : file;
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * fs.readSync that waits out EAGAIN: stdin may be a non-blocking pipe or terminal (the parent's choice), where a read
 * with nothing buffered yet fails instead of waiting. Returns 0 at the end (Windows pipes say EOF).
 */
function readChunk(fd: number, buf: Buffer): number {
  for (;;) {
    try {
      return fs.readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') Atomics.wait(pause, 0, 0, 2);
      else if (code === 'EOF') return 0;
      else throw e;
    }
  }
}

/** Reads CSV records from a file, one at a time, holding one chunk (and the record being read) in memory. */
export class CsvReader {
  delimiter = ',';
  private buf = '';
  private pos = 0;
  private eof = false;
  private lineNo = 0;
  private readonly chunk = Buffer.allocUnsafe(CHUNK);
  private readonly decoder = new StringDecoder('utf8');
  private first = true;
  private bytes = 0;

  private constructor(
    readonly file: string,
    private fd: number | null,
  ) {}

  /**
   * Opens `file` (`-`: stdin, named `<stdin>`); the delimiter is `delimiter` or sniffed from the header line (',' ';' or
   * tab, whichever is most common). `reader.file` is the name messages use.
   */
  static open(file: string, delimiter?: string): CsvReader {
    let fd: number;
    if (file === STDIN) fd = 0;
    else {
      try {
        fd = fs.openSync(file, 'r');
        if (fs.fstatSync(fd).isDirectory()) {
          fs.closeSync(fd);
          throw Object.assign(new Error('directory'), { code: 'EISDIR' });
        }
      } catch (e) {
        throw new UserError(fsMessage('read', file, e));
      }
    }
    const r = new CsvReader(inputName(file), fd);
    try {
      const st = fs.fstatSync(fd);
      r.bytes = st.isFile() ? st.size : 0;
    } catch {
      /* the size only sizes a buffer */
    }
    r.fill();
    if (delimiter !== undefined) {
      if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
        throw new UserError(
          `--delimiter: expected one character other than a quote or a line break, got ${JSON.stringify(delimiter)}`,
        );
      }
      r.delimiter = delimiter;
    } else {
      r.delimiter = sniffDelimiter(r.buf.slice(0, r.buf.indexOf('\n') < 0 ? r.buf.length : r.buf.indexOf('\n')));
    }
    return r;
  }

  /** The file's size in bytes when it has one (a file, stdin redirected from a file), else 0 (a pipe). */
  size(): number {
    return this.bytes;
  }

  /** Closes the file (also done at its end); stdin stays open, only no longer read. */
  close(): void {
    if (this.fd !== null) {
      if (this.fd !== 0) fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  /** Reads the next chunk; returns how far the buffer moved left (indices into it shift by that much). */
  private fill(): number {
    const shift = this.pos;
    this.buf = this.buf.slice(this.pos);
    this.pos = 0;
    if (this.fd === null) {
      this.eof = true;
      return shift;
    }
    let n: number;
    try {
      n = readChunk(this.fd, this.chunk);
    } catch (e) {
      throw new UserError(fsMessage('read', this.file, e));
    }
    if (n === 0) {
      this.eof = true;
      this.buf += this.decoder.end();
      this.close();
    } else {
      this.buf += this.decoder.write(this.chunk.subarray(0, n));
    }
    if (this.first && this.buf.length > 0) {
      if (this.buf.charCodeAt(0) === 0xfeff) this.buf = this.buf.slice(1);
      this.first = false;
    }
    return shift;
  }

  /** The next record, or null at the end of the file. */
  next(): CsvRecord | null {
    for (;;) {
      let nl = this.buf.indexOf('\n', this.pos);
      while (nl < 0 && !this.eof) {
        this.fill();
        nl = this.buf.indexOf('\n', this.pos);
      }
      if (this.pos >= this.buf.length && this.eof) return null;
      const end = nl < 0 ? this.buf.length : nl;
      let text = this.buf.slice(this.pos, end);
      if (text.indexOf('"') >= 0) return this.quoted();
      this.pos = nl < 0 ? this.buf.length : nl + 1;
      this.lineNo++;
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.trim() === '') continue;
      return { fields: text.split(this.delimiter), line: this.lineNo };
    }
  }

  /** A record with quotes: a character-level state machine that may run over several lines. */
  private quoted(): CsvRecord {
    const d = this.delimiter;
    const start = this.lineNo + 1;
    let line = start;
    const fields: string[] = [];
    let field = '';
    let state: 'start' | 'plain' | 'quoted' | 'after' = 'start';
    let i = this.pos;
    for (;;) {
      if (i + 1 >= this.buf.length && !this.eof) {
        // keep one character of lookahead for ""
        i -= this.fill();
        continue;
      }
      if (i >= this.buf.length) {
        if (state === 'quoted')
          throw CsvError.at(
            this.file,
            start,
            undefined,
            undefined,
            `a quoted field (field ${fields.length + 1}) is never closed`,
          );
        break;
      }
      const ch = this.buf[i];
      if (state === 'quoted') {
        if (ch === '"') {
          if (this.buf[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            state = 'after';
            i++;
          }
        } else {
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        continue;
      }
      if (state === 'start' && ch === '"') {
        state = 'quoted';
        i++;
        continue;
      }
      if (ch === d) {
        fields.push(field);
        field = '';
        state = 'start';
        i++;
        continue;
      }
      if (ch === '\n') {
        i++;
        break;
      }
      if (ch === '\r' && (this.buf[i + 1] === '\n' || i + 1 >= this.buf.length)) {
        i++;
        continue;
      }
      if (state === 'after') {
        throw CsvError.at(
          this.file,
          line,
          fields.length + 1,
          undefined,
          `unexpected ${JSON.stringify(ch)} after the closing quote of a quoted field`,
        );
      }
      state = 'plain';
      field += ch;
      i++;
    }
    fields.push(field);
    this.pos = i;
    this.lineNo = line;
    return { fields, line: start };
  }
}

function sniffDelimiter(headerLine: string): string {
  let best = ',',
    bestCount = 0;
  for (const d of [',', ';', '\t']) {
    let n = 0,
      inQuote = false;
    for (const ch of headerLine) {
      if (ch === '"') inQuote = !inQuote;
      else if (ch === d && !inQuote) n++;
    }
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}

/** One CSV field as written: quoted when it holds a comma, a quote or a line break. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A number as written to CSV: the shortest text that reads back to the same double; NaN as an empty cell. */
export function csvNumber(v: number): string {
  return Number.isNaN(v) ? '' : String(v);
}

/**
 * A value cell: a finite number, NaN for an empty cell, or null when the cell is not a number or is a number beyond
 * the largest double (1e400 reads as Infinity; `valueError` says which).
 */
export function parseValue(cell: string): number | null {
  const s = cell.trim();
  if (s === '') return NaN;
  if (!NUMBER.test(s)) return null;
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/** The error for a value cell that `parseValue` refused, at its file, line and column. */
export function valueError(file: string, line: number, column: number, name: string, cell: string): CsvError {
  if (NUMBER.test(cell.trim())) {
    return CsvError.at(
      file,
      line,
      column,
      name,
      `${cell.trim()} is beyond the range of a double (±1.8e308); rescale the column (e.g. write it in larger units)`,
    );
  }
  return CsvError.at(
    file,
    line,
    column,
    name,
    `${JSON.stringify(cell)} is not a number (leave the cell empty for a missing value)`,
  );
}

// ---------------------------------------------------------------------------------------------------------------------
// Schema

export interface SchemaOptions {
  /** Name of the time column; default: detected. */
  timeColumn?: string;
  /** Names of the value columns; default: every numeric column. */
  columns?: string[];
  /** Name of a 0/1 label column (read, never a value column). */
  labelColumn?: string;
  /** Columns never taken as values (e.g. score, threshold, anomaly in a flags file). */
  exclude?: string[];
}

export interface Schema {
  header: string[];
  /** Column index of the time, or −1 when the file has none (the row number is the time). */
  time: number;
  /** Column indices of the value columns. */
  values: number[];
  /** Column index of the label column, or −1. */
  label: number;
  /** Non-numeric columns that were left out. */
  ignored: string[];
}

const TIME_NAMES = /^(timestamp|time[ _-]?stamp|time|date|datetime|date[ _-]?time|ts|dt|t)$/i;

function columnIndex(file: string, header: string[], name: string, option: string): number {
  const i = header.indexOf(name);
  if (i < 0) {
    throw new UserError(
      `${option}: ${file} has no column ${JSON.stringify(name)}; its columns are ${header.map((h) => JSON.stringify(h)).join(', ')}`,
    );
  }
  return i;
}

/** Time, value and label columns from the header and a sample of the first records. */
export function detectSchema(file: string, header: string[], sample: readonly CsvRecord[], o: SchemaOptions): Schema {
  const seen = new Map<string, number>();
  header.forEach((h, i) => {
    const j = seen.get(h);
    if (j !== undefined)
      throw CsvError.at(
        file,
        1,
        undefined,
        undefined,
        `the header names column ${JSON.stringify(h)} twice (columns ${j + 1} and ${i + 1})`,
      );
    seen.set(h, i);
  });
  const label = o.labelColumn !== undefined ? columnIndex(file, header, o.labelColumn, '--labels') : -1;
  const numeric = header.map((_, c) => {
    let num = 0,
      text = 0;
    for (const r of sample) {
      if (r.fields.length !== header.length) continue;
      const cell = r.fields[c].trim();
      if (cell === '') continue;
      if (NUMBER.test(cell))
        num++; // a number beyond the double range counts: it is reported where it is, not hidden
      else text++;
    }
    return num >= text; // at least half of the non-empty cells are numbers (a stray bad cell is reported, not hidden)
  });
  const exclude = new Set(o.exclude ?? []);
  let time = -1;
  if (o.timeColumn !== undefined) time = columnIndex(file, header, o.timeColumn, '--time-column');
  else {
    time = header.findIndex((h, i) => TIME_NAMES.test(h.trim()) && i !== label && !(o.columns ?? []).includes(h));
    if (time < 0)
      time = header.findIndex(
        (h, i) => !numeric[i] && i !== label && !exclude.has(h) && !(o.columns ?? []).includes(h),
      );
  }
  let values: number[];
  const ignored: string[] = [];
  if (o.columns !== undefined) {
    values = o.columns.map((c) => columnIndex(file, header, c, '--columns'));
    for (const i of values) {
      if (i === time)
        throw new UserError(
          `--columns: ${JSON.stringify(header[i])} is the time column; name it with --time-column or leave it out of --columns`,
        );
      if (i === label) throw new UserError(`--columns: ${JSON.stringify(header[i])} is the label column`);
    }
    if (new Set(values).size !== values.length) throw new UserError('--columns: a column is named twice');
  } else {
    values = [];
    header.forEach((h, i) => {
      if (i === time || i === label || exclude.has(h)) return;
      if (numeric[i]) values.push(i);
      else ignored.push(h);
    });
  }
  if (values.length === 0) {
    throw new UserError(
      `${file}: no numeric column to analyse (columns: ${header.map((h) => JSON.stringify(h)).join(', ')}` +
        `${time >= 0 ? `; time column ${JSON.stringify(header[time])}` : ''}); name the value columns with --columns`,
    );
  }
  return { header, time, values, label, ignored };
}

// ---------------------------------------------------------------------------------------------------------------------
// Whole-file table

export interface Table {
  file: string;
  /** Name of the time column, or null (the row number is the time). */
  timeColumn: string | null;
  timeKind: TimeKind | 'index';
  /** Timestamps as written, one per row (null when there is no time column). */
  times: string[] | null;
  /** Timestamps as numbers (ms since 1970 UTC for dates), for ordering and plotting; null unless date or number. */
  timeValues: Float64Array | null;
  columns: string[];
  /** Values [n, F] row-major; NaN where a cell was empty. */
  values: Float64Array;
  /** Label column (0/1 per row), when one was asked for. */
  labels: Uint8Array | null;
  n: number;
  /** Line number of each row in the file. */
  lines: Int32Array;
  /** Empty cells per value column. */
  missing: number[];
  warnings: string[];
  /** Every column of the header (for error messages and the report). */
  header: string[];
}

export interface ReadOptions extends SchemaOptions {
  delimiter?: string;
  /** Value columns where empty cells are expected (a flags file's score and threshold): no warning, may be all empty. */
  optional?: string[];
}

const SAMPLE = 200;

/** A CSV opened for reading: the reader (left after the sample), the schema, and the records read to find it. */
export interface Opened {
  reader: CsvReader;
  schema: Schema;
  sample: CsvRecord[];
}

/** Reads the header and the first records, and the schema they imply. The reader is left after the sample. */
export function openWithSchema(file: string, o: ReadOptions): Opened {
  const reader = CsvReader.open(file, o.delimiter);
  const name = reader.file;
  try {
    const head = reader.next();
    if (head === null) throw new CsvError(`${name} is empty: expected a header row and data rows`, name);
    const header = head.fields.map((h) => h.trim());
    const sample: CsvRecord[] = [];
    for (let r = reader.next(); r !== null; r = sample.length < SAMPLE ? reader.next() : null) sample.push(r);
    if (sample.length === 0) throw new CsvError(`${name} has a header but no data rows`, name);
    const schema = detectSchema(name, header, sample, o);
    return { reader, schema, sample };
  } catch (e) {
    reader.close();
    throw e;
  }
}

/**
 * The same opened file under other schema options, without reading it again (stdin cannot be read twice): the header
 * and the sample give the new schema. Closes the reader if the options do not fit the file.
 */
export function reschema(opened: Opened, o: SchemaOptions): Opened {
  try {
    return { ...opened, schema: detectSchema(opened.reader.file, opened.schema.header, opened.sample, o) };
  } catch (e) {
    opened.reader.close();
    throw e;
  }
}

/** A label cell: 1 for a non-zero number or true/yes, 0 for 0, false, no or empty. */
export function parseLabel(cell: string, file: string, line: number, col: number, name: string): 0 | 1 {
  const s = cell.trim().toLowerCase();
  if (s === '' || s === '0' || s === 'false' || s === 'no') return 0;
  if (s === 'true' || s === 'yes') return 1;
  const v = parseValue(s);
  if (v === null || Number.isNaN(v))
    throw CsvError.at(file, line, col, name, `label ${JSON.stringify(cell)} is not 0/1`);
  return v !== 0 ? 1 : 0;
}

/** Checks one record's field count against the header. */
export function checkRagged(file: string, r: CsvRecord, width: number): void {
  if (r.fields.length !== width) {
    throw CsvError.at(
      file,
      r.line,
      undefined,
      undefined,
      `${r.fields.length} field${r.fields.length === 1 ? '' : 's'}, but the header has ${width}` +
        ' (a ragged row; quote fields that contain the delimiter)',
    );
  }
}

/**
 * Reads a whole CSV file (`-`: stdin) into a Table, sorted by time, with the checks and warnings listed at the top of
 * this file.
 */
export function readTable(path: string, o: ReadOptions = {}): Table {
  return tableFrom(openWithSchema(path, o), o);
}

/** The rest of an opened CSV (see openWithSchema) read into a Table, as readTable does. */
export function tableFrom(opened: Opened, o: ReadOptions = {}): Table {
  const { reader, schema, sample } = opened;
  const file = reader.file;
  const { header, time, values: vcols, label } = schema;
  const F = vcols.length;
  const warnings: string[] = [];
  if (schema.ignored.length > 0) {
    warnings.push(
      `${file}: left out non-numeric column${schema.ignored.length > 1 ? 's' : ''} ${schema.ignored.map((c) => JSON.stringify(c)).join(', ')}` +
        ' (name value columns with --columns)',
    );
  }
  const times: string[] = [];
  const tv: number[] = [];
  const vals = new ValueBuffer(F, estimateRows(reader.size(), sample));
  const labels: number[] = [];
  const lines: number[] = [];
  const missing = new Array<number>(F).fill(0);
  let tp: ReturnType<typeof timeParser> | null = null;
  let firstTime = '';
  const take = (r: CsvRecord): void => {
    checkRagged(file, r, header.length);
    if (time >= 0) {
      const cell = r.fields[time].trim();
      if (cell === '') throw CsvError.at(file, r.line, time + 1, header[time], 'empty timestamp');
      if (tp === null) {
        tp = timeParser(cell);
        firstTime = cell;
      }
      const t = tp.parse(cell);
      if (tp.kind !== 'text' && Number.isNaN(t)) {
        throw CsvError.at(
          file,
          r.line,
          time + 1,
          header[time],
          `${JSON.stringify(cell)} is not a ${tp.kind === 'date' ? 'date' : 'number'}` +
            ` like the first timestamp ${JSON.stringify(firstTime)}`,
        );
      }
      if (tp.kind === 'number' && !Number.isFinite(t)) {
        throw CsvError.at(
          file,
          r.line,
          time + 1,
          header[time],
          `timestamp ${cell} is beyond the range of a double (±1.8e308)`,
        );
      }
      times.push(cell);
      tv.push(t);
    }
    for (let f = 0; f < F; f++) {
      const c = vcols[f];
      const v = parseValue(r.fields[c]);
      if (v === null) throw valueError(file, r.line, c + 1, header[c], r.fields[c]);
      if (Number.isNaN(v)) missing[f] = missing[f] + 1;
      vals.push(v);
    }
    if (label >= 0) labels.push(parseLabel(r.fields[label], file, r.line, label + 1, header[label]));
    lines.push(r.line);
  };
  try {
    for (const r of sample) take(r);
    for (let r = reader.next(); r !== null; r = reader.next()) take(r);
  } finally {
    reader.close();
  }
  let n = lines.length;
  if (n < 2)
    throw new UserError(
      `${file} has a single data row (line ${lines[0]}); a series needs many rows (at least the window length)`,
    );
  const columns = vcols.map((c) => header[c]);
  const kind: TimeKind | 'index' = time < 0 ? 'index' : ((tp as ReturnType<typeof timeParser> | null)?.kind ?? 'text');

  let order: number[] | null = null;
  if (kind === 'date' || kind === 'number') {
    let back = 0,
      firstBack = -1;
    for (let i = 1; i < n; i++)
      if (tv[i] < tv[i - 1]) {
        back++;
        if (firstBack < 0) firstBack = i;
      }
    if (back > 0) {
      order = Array.from({ length: n }, (_, i) => i).sort((a, b) => tv[a] - tv[b] || a - b);
      warnings.push(
        `${file}: ${back} row${back > 1 ? 's go' : ' goes'} back in time (first at line ${lines[firstBack]}: ` +
          `${JSON.stringify(times[firstBack])} after ${JSON.stringify(times[firstBack - 1])}); sorted the rows by timestamp (stable)`,
      );
    }
    const idx = order ?? Array.from({ length: n }, (_, i) => i);
    const keep: number[] = [];
    let dups = 0,
      firstDup = -1;
    for (let k = 0; k < n; k++) {
      const i = idx[k];
      if (keep.length > 0 && tv[i] === tv[keep[keep.length - 1]]) {
        dups++;
        if (firstDup < 0) firstDup = i;
        continue;
      }
      keep.push(i);
    }
    if (dups > 0) {
      warnings.push(
        `${file}: ${dups} row${dups > 1 ? 's repeat' : ' repeats'} an earlier timestamp (first at line ${lines[firstDup]}: ` +
          `${JSON.stringify(times[firstDup])}); kept the first row of each timestamp and dropped the repeats`,
      );
    }
    if (order !== null || dups > 0) order = keep;
  } else if (kind === 'text') {
    warnings.push(
      `${file}: the time column ${JSON.stringify(header[time])} holds text, not dates or numbers ` +
        `(${JSON.stringify(firstTime)}); kept the rows in file order`,
    );
  }

  const pick = order;
  if (pick !== null) n = pick.length;
  const out: Table = {
    file,
    timeColumn: time >= 0 ? header[time] : null,
    timeKind: kind,
    times: time >= 0 ? (pick ? pick.map((i) => times[i]) : times) : null,
    timeValues: kind === 'date' || kind === 'number' ? Float64Array.from(pick ? pick.map((i) => tv[i]) : tv) : null,
    columns,
    values: pick ? vals.pick(pick) : vals.values(),
    labels: label >= 0 ? new Uint8Array(n) : null,
    n,
    lines: Int32Array.from(pick ? pick.map((i) => lines[i]) : lines),
    missing,
    warnings,
    header,
  };
  if (pick !== null) {
    out.missing = new Array<number>(F).fill(0);
    for (let k = 0; k < n * F; k++) if (Number.isNaN(out.values[k])) out.missing[k % F] = out.missing[k % F] + 1;
  }
  if (out.labels) for (let k = 0; k < n; k++) out.labels[k] = labels[pick ? pick[k] : k];
  if (n < 2) throw new UserError(`${file} has a single distinct timestamp; a series needs many rows`);
  const optional = (o.optional ?? []).map((c) => columns.indexOf(c));
  const reported = out.missing.map((m, f) => (optional.includes(f) ? 0 : m));
  if (reported.some((m) => m > 0)) warnings.push(missingWarning(file, columns, reported));
  return out;
}

/**
 * The value cells of a table as they are parsed: one Float64Array [rows, F], grown by doubling from an estimate of the
 * row count, so a value is written once from its text and read by the library in place (`values()` is a view).
 */
class ValueBuffer {
  private data: Float64Array;
  private length = 0;

  constructor(
    private readonly F: number,
    rows: number,
  ) {
    this.data = new Float64Array(Math.max(1, rows) * F);
  }

  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }

  /** The values in file order: a view, no copy. */
  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }

  /** Rows `order` (sorted, deduplicated), copied. */
  pick(order: readonly number[]): Float64Array {
    const F = this.F,
      out = new Float64Array(order.length * F);
    order.forEach((i, k) => out.set(this.data.subarray(i * F, i * F + F), k * F));
    return out;
  }
}

/** Rows a file holds, estimated from its size and the sample's line lengths (a little over, so it rarely grows). */
function estimateRows(size: number, sample: readonly CsvRecord[]): number {
  let chars = 0;
  for (const r of sample) chars += r.fields.reduce((a, f) => a + f.length + 1, 0);
  const F = Math.max(1, sample[0]?.fields.length ?? 1);
  return Math.min(Math.floor((1 << 27) / F), Math.ceil((1.05 * size * sample.length) / Math.max(1, chars)) + 16);
}

/** "data.csv: 3 empty cells (column "a": 2, "b": 1) were treated as missing and filled by linear interpolation". */
export function missingWarning(file: string, columns: readonly string[], missing: readonly number[]): string {
  const total = missing.reduce((a, b) => a + b, 0);
  const per = columns
    .map((c, f) => [c, missing[f]] as const)
    .filter(([, m]) => m > 0)
    .map(([c, m]) => `${JSON.stringify(c)}: ${m}`)
    .join(', ');
  return (
    `${file}: ${total} empty cell${total > 1 ? 's' : ''} (column ${per}) treated as missing and filled by linear interpolation ` +
    'between the nearest values before and after'
  );
}
