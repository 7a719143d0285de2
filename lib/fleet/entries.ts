/**
 * Input entries: fields `series`, `ts` (epoch ms, an integer), `v` (the values, comma-separated, one per feature) and,
 * optionally, `template` (the template a new series starts from). Anything else is a malformed entry: it goes to the
 * dead-letter stream with the reason (lib/fleet/worker.ts).
 */
import { FleetError } from './errors.js';
import { checkSeriesName, checkTemplateName } from './keys.js';

/** A parsed input point. */
export interface InputPoint {
  series: string;
  ts: number;
  values: number[];
  template: string | undefined;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const NON_FINITE = /^[-+]?(nan|inf|infinity)$/i;

/**
 * Parses an entry's flat field list; returns the point, or a sentence saying what is wrong (`nonFinite` marks the
 * non-finite-value case, which the dead letters count apart).
 */
export function parseEntry(fields: string[]): InputPoint | { reason: string } {
  const seen = new Map<string, string>();
  if (fields.length % 2 !== 0) return { reason: 'malformed entry: an odd number of field names and values' };
  for (let i = 0; i < fields.length; i += 2) {
    const k = fields[i];
    if (k !== 'series' && k !== 'ts' && k !== 'v' && k !== 'template') {
      return { reason: `malformed entry: unexpected field ${JSON.stringify(k)} (expected series, ts, v, template)` };
    }
    if (seen.has(k)) return { reason: `malformed entry: field ${k} appears twice` };
    seen.set(k, fields[i + 1]);
  }
  for (const k of ['series', 'ts', 'v']) {
    if (!seen.has(k)) return { reason: `malformed entry: missing field ${k} (expected series, ts, v, template)` };
  }
  const series = seen.get('series') as string,
    tsText = seen.get('ts') as string,
    vText = seen.get('v') as string,
    template = seen.get('template');
  if (series.length === 0 || series.length > 1024) {
    return { reason: `malformed entry: series must be a non-empty name of at most 1024 characters` };
  }
  if (!/^-?\d{1,16}$/.test(tsText) || !Number.isSafeInteger(Number(tsText))) {
    return { reason: `malformed entry: ts must be an integer (epoch ms), got ${JSON.stringify(tsText.slice(0, 40))}` };
  }
  if (template !== undefined && !/^[A-Za-z0-9_.:@/-]{1,200}$/.test(template)) {
    return {
      reason: `malformed entry: template must be a template name, got ${JSON.stringify(template.slice(0, 40))}`,
    };
  }
  const parts = vText.split(',');
  const values = new Array<number>(parts.length);
  for (let f = 0; f < parts.length; f++) {
    const t = parts[f].trim();
    if (NON_FINITE.test(t)) {
      return { reason: `non-finite value: feature ${f} of v is ${t}; expected a finite number` };
    }
    if (!NUMBER.test(t)) {
      return { reason: `malformed entry: feature ${f} of v is ${JSON.stringify(t.slice(0, 40))}, not a number` };
    }
    const x = Number(t);
    if (!Number.isFinite(x)) return { reason: `non-finite value: feature ${f} of v (${t}) overflows to ${x}` };
    values[f] = x;
  }
  return { series, ts: Number(tsText), values, template };
}

/** An entry's field list for a point (the producer's side; checks what parseEntry would refuse). */
export function entryFields(
  series: string,
  ts: number,
  values: number | ArrayLike<number>,
  template: string | undefined,
  where: string,
): string[] {
  checkSeriesName(series, `${where}(series)`);
  if (!Number.isSafeInteger(ts)) {
    throw new FleetError('argument', `${where}(ts): expected an integer (epoch ms), got ${String(ts)}`);
  }
  const vs = typeof values === 'number' ? [values] : Array.from(values);
  if (vs.length === 0) throw new FleetError('argument', `${where}(values): expected at least one value, got none`);
  for (let f = 0; f < vs.length; f++) {
    if (typeof vs[f] !== 'number' || !Number.isFinite(vs[f])) {
      throw new FleetError(
        'argument',
        `${where}(values): expected finite numbers, got ${String(vs[f])} at feature ${f}`,
      );
    }
  }
  const fields = ['series', series, 'ts', String(ts), 'v', vs.map(String).join(',')];
  if (template !== undefined) {
    checkTemplateName(template, `${where}(template)`);
    fields.push('template', template);
  }
  return fields;
}
