/**
 * Series identity. A series of a query's result is identified by its label set (as Prometheus returns it, `__name__`
 * included when the query keeps it) together with the query, so that two queries whose results carry the same labels
 * (`rate(a[1m])` and `rate(b[1m])` both drop the metric name) stay two series.
 *
 *   seriesId(q, labels)   16 hex digits of sha256(query, the labels sorted by name): the state file's name
 *   exposedLabels(q, l)   the labels bptt's own metrics carry: the original ones, `__name__` as `bptt_metric`, and
 *                         `bptt_query` (the PromQL text)
 *   parseSelector(s)      '{job="node",instance="a:9100"}' → labels (the `bptt feedback --series` syntax)
 */
import { createHash } from 'crypto';
import { ArgumentError } from '../errors.js';
import { describeValue } from '../check.js';

export type LabelSet = Record<string, string>;

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The label set sorted by name, as a JSON array of [name, value] pairs: equal sets give equal strings. */
export function canonicalLabels(labels: LabelSet): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

/** The series' identifier: 16 hex digits of sha256 over the query and the canonical labels. */
export function seriesId(query: string, labels: LabelSet): string {
  return createHash('sha256')
    .update(JSON.stringify([query, canonicalLabels(labels)]))
    .digest('hex')
    .slice(0, 16);
}

/** The labels bptt's per-series metrics carry (see the file comment). */
export function exposedLabels(query: string, labels: LabelSet): LabelSet {
  const out: LabelSet = {};
  for (const k of Object.keys(labels).sort()) if (k !== '__name__') out[k] = labels[k];
  if (labels['__name__'] !== undefined) out['bptt_metric'] = labels['__name__'];
  out['bptt_query'] = query;
  return out;
}

/** Labels written as PromQL writes a selector: {a="x",b="y\"z"}. */
export function formatSelector(labels: LabelSet): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`);
  return `{${parts.join(',')}}`;
}

/**
 * A label selector of equality matchers, '{a="x", b="y"}' (values in double quotes, with \\ \" \n escapes), as a label
 * set; an ArgumentError naming `argName` for anything else.
 */
export function parseSelector(s: string, argName: string): LabelSet {
  const bad = (why: string): never => {
    throw new ArgumentError(
      argName,
      `a label selector such as '{job="node",instance="a:9100"}' (${why})`,
      describeValue(s),
    );
  };
  const t = s.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) bad('braces missing');
  const body = t.slice(1, -1);
  const out: LabelSet = {};
  let i = 0;
  const skip = (): void => {
    while (i < body.length && /\s/.test(body[i])) i++;
  };
  skip();
  while (i < body.length) {
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(body.slice(i));
    if (m === null) bad(`a label name expected at ${i + 1}`);
    const name = (m as RegExpExecArray)[0];
    i += name.length;
    skip();
    if (body[i] !== '=' || body[i + 1] === '~') bad(`only name="value" matchers, at ${i + 1}`);
    i++;
    skip();
    if (body[i] !== '"') bad(`a double-quoted value expected at ${i + 1}`);
    i++;
    let v = '';
    for (;;) {
      if (i >= body.length) bad('unterminated value');
      const c = body[i++];
      if (c === '"') break;
      if (c === '\\') {
        const e = body[i++];
        if (e === 'n') v += '\n';
        else if (e === '\\' || e === '"') v += e;
        else bad(`unknown escape \\${e ?? ''}`);
      } else v += c;
    }
    if (name in out) bad(`label ${name} given twice`);
    out[name] = v;
    skip();
    if (i < body.length) {
      if (body[i] !== ',') bad(`',' expected at ${i + 1}`);
      i++;
      skip();
    }
  }
  return out;
}

/** Whether a Prometheus result's `metric` is a label set (string values, valid names). */
export function isLabelSet(v: unknown): v is LabelSet {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  for (const [k, x] of Object.entries(v)) if (!LABEL_NAME.test(k) || typeof x !== 'string') return false;
  return true;
}
