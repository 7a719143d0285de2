/**
 * Prometheus text exposition format (version 0.0.4), the format of bptt's /metrics:
 *
 *   # HELP bptt_anomaly_score Anomaly score of the newest point of each watched series.
 *   # TYPE bptt_anomaly_score gauge
 *   bptt_anomaly_score{instance="a:9100",job="node"} 0.37
 *
 * One HELP and one TYPE line per family, before its samples; every sample line of a family together; each line is
 * `name{labels} value` (no timestamp: Prometheus stamps the scrape, and its staleness handling stays on). In HELP text
 * a backslash is written \\ and a line feed \n; in a label value also a double quote is written \". Values are Go
 * float syntax: NaN, +Inf, -Inf, or a decimal number. Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]* (names starting with __ are reserved).
 */
import type { LabelSet } from './labels.js';

export interface Sample {
  labels: LabelSet;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The content type of this format. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value in Go float syntax. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelsText(labels: LabelSet): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k])}"`).join(',')}}`;
}

/** The families as exposition text; a family without samples still gets its HELP and TYPE lines. */
export function renderExposition(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    if (!METRIC_NAME.test(f.name)) throw new RangeError(`exposition: invalid metric name ${JSON.stringify(f.name)}`);
    if (seen.has(f.name)) throw new RangeError(`exposition: metric family ${f.name} given twice`);
    seen.add(f.name);
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    const lines = new Set<string>();
    for (const s of f.samples) {
      for (const k of Object.keys(s.labels)) {
        if (!LABEL_NAME.test(k) || k.startsWith('__')) {
          throw new RangeError(`exposition: invalid label name ${JSON.stringify(k)} in ${f.name}`);
        }
      }
      const key = `${f.name}${labelsText(s.labels)}`;
      if (lines.has(key)) throw new RangeError(`exposition: duplicate sample ${key}`);
      lines.add(key);
      out.push(`${key} ${formatValue(s.value)}`);
    }
  }
  return `${out.join('\n')}\n`;
}
