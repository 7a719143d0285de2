/**
 * Detector documents in Redis: templates (`{p}:template:{name}`, shared by every series that names them) and each
 * series' own fitted detector (`{p}:detector:{series}`), each with a version counter bumped in the same MULTI as the
 * document is written, so a reader that fetches both in one MULTI always gets a matching pair.
 *
 * Only detectors whose stream answers every push after warm-up with the newest point are accepted: autoencoders with
 * combine 'last', 'lstm-forecast', 'zscore', 'iqr', 'gru-online'. Autoencoders with combine 'mean'/'max' score a point
 * W−1 pushes later, which breaks "one output per input point, written when the point is processed"; they are refused
 * here (and by a worker that meets one) with a FleetError 'detector'.
 *
 * Workers parse a document once per (name, version) and share the parsed Detector among all the series that use it
 * (DetectorCache): a thousand series on one template cost one parse.
 */
import type { Redis } from 'ioredis';
import { Detector } from '../detect/detector.js';
import { FleetError } from './errors.js';
import { withClient, type RedisLike } from './client.js';
import { FleetKeys, checkSeriesName, checkTemplateName, DEFAULT_PREFIX } from './keys.js';

/** Which detector a series runs: a template (by name) or its own fitted one, and the version of that document. */
export interface DetectorSource {
  kind: 'template' | 'fitted';
  /** The template's name, or the series' name for a fitted detector. */
  name: string;
  version: number;
}

/** Throws FleetError 'detector' unless `d` is fitted and streams one result per point after warm-up. */
export function checkStreamable(d: Detector, where: string): void {
  if (!(d instanceof Detector) || !d.fitted) {
    throw new FleetError(
      'detector',
      `${where}: expected a fitted Detector, got ${d instanceof Detector ? 'an unfitted one' : typeof d}`,
    );
  }
  const o = d.options;
  if (o.model.endsWith('-ae') && o.combine !== 'last') {
    throw new FleetError(
      'detector',
      `${where}: model '${o.model}' with combine '${o.combine}' scores a point W−1 points after it arrives; the fleet ` +
        "writes one output per input point as it is processed: use combine 'last' (or a forecaster, zscore, iqr, gru-online)",
    );
  }
  try {
    d.stream(); // refuses combine 'all', threshold 'dynamic', look-ahead detectors
  } catch (e) {
    throw new FleetError('detector', `${where}: this detector cannot stream: ${(e as Error).message}`);
  }
}

async function put(redis: RedisLike, docKey: string, versionKey: string, doc: string): Promise<number> {
  return withClient(redis, async (r) => {
    const res = await r.multi().set(docKey, doc).incr(versionKey).exec();
    const err = res?.find(([e]) => e !== null)?.[0];
    if (res === null || err) throw err ?? new FleetError('state', `${docKey}: the write was aborted`);
    return Number(res[1][1]);
  });
}

/**
 * Stores a fitted detector as a template: series that name it (an entry's `template` field, or a worker's
 * defaultTemplate) and have no fitted detector of their own stream from it. Each call bumps the template's version;
 * series running on it switch to the new version between points (warmed with their recent points).
 *
 * @param redis - A connected ioredis client, or a redis:// URL.
 * @param prefix - The fleet's key prefix ('bptt' by default elsewhere).
 * @param name - The template's name (letters, digits and _.-:@/).
 * @param detector - A fitted detector that can stream (see the module notes).
 * @returns The template's new version (1 for the first).
 * @throws {@link FleetError} 'argument' for a bad name, 'detector' for a detector the fleet cannot stream.
 */
export async function putTemplate(redis: RedisLike, prefix: string, name: string, detector: Detector): Promise<number> {
  const keys = new FleetKeys(prefix ?? DEFAULT_PREFIX);
  checkTemplateName(name, 'putTemplate(name)');
  checkStreamable(detector, 'putTemplate(detector)');
  return put(redis, keys.template(name), keys.templateVersion(name), JSON.stringify(detector.toJSON()));
}

/**
 * Stores a series' own fitted detector (what a training job does) and bumps its version; the worker that owns the
 * series switches to it between points. A series with a fitted detector no longer uses templates.
 *
 * @param redis - A connected ioredis client, or a redis:// URL.
 * @param prefix - The fleet's key prefix.
 * @param series - The series' name.
 * @param detector - A fitted detector that can stream (see the module notes).
 * @returns The series' new detector version (1 for the first).
 * @throws {@link FleetError} 'argument' for a bad series name, 'detector' for a detector the fleet cannot stream.
 */
export async function putDetector(
  redis: RedisLike,
  prefix: string,
  series: string,
  detector: Detector,
): Promise<number> {
  const keys = new FleetKeys(prefix ?? DEFAULT_PREFIX);
  checkSeriesName(series, 'putDetector(series)');
  checkStreamable(detector, 'putDetector(detector)');
  return put(redis, keys.detector(series), keys.detectorVersion(series), JSON.stringify(detector.toJSON()));
}

/** Reads a document and its version in one MULTI (a matching pair); null when absent. */
async function getDoc(r: Redis, docKey: string, versionKey: string): Promise<{ doc: string; version: number } | null> {
  const res = await r.multi().get(docKey).get(versionKey).exec();
  if (res === null) return null;
  const doc = res[0][1] as string | null,
    version = Number(res[1][1] ?? 0);
  return doc === null ? null : { doc, version };
}

/**
 * A series' fitted detector and its version, or null when it has none (it runs on a template).
 *
 * @param redis - A connected ioredis client, or a redis:// URL.
 * @param prefix - The fleet's key prefix.
 * @param series - The series' name.
 * @returns The detector and its version, or null.
 * @throws {@link FleetError} 'state' when the stored document cannot be read as a detector.
 */
export async function getDetector(
  redis: RedisLike,
  prefix: string,
  series: string,
): Promise<{ detector: Detector; version: number } | null> {
  const keys = new FleetKeys(prefix ?? DEFAULT_PREFIX);
  checkSeriesName(series, 'getDetector(series)');
  return withClient(redis, async (r) => {
    const got = await getDoc(r, keys.detector(series), keys.detectorVersion(series));
    return got === null ? null : { detector: parseDetector(got.doc, keys.detector(series)), version: got.version };
  });
}

/**
 * A template and its version, or null when no template has that name.
 *
 * @param redis - A connected ioredis client, or a redis:// URL.
 * @param prefix - The fleet's key prefix.
 * @param name - The template's name.
 * @returns The detector and its version, or null.
 */
export async function getTemplate(
  redis: RedisLike,
  prefix: string,
  name: string,
): Promise<{ detector: Detector; version: number } | null> {
  const keys = new FleetKeys(prefix ?? DEFAULT_PREFIX);
  checkTemplateName(name, 'getTemplate(name)');
  return withClient(redis, async (r) => {
    const got = await getDoc(r, keys.template(name), keys.templateVersion(name));
    return got === null ? null : { detector: parseDetector(got.doc, keys.template(name)), version: got.version };
  });
}

function parseDetector(doc: string, key: string): Detector {
  let d: Detector;
  try {
    d = Detector.fromJSON(doc, key);
  } catch (e) {
    throw new FleetError('state', `${key}: not a readable detector document: ${(e as Error).message}`);
  }
  checkStreamable(d, key);
  return d;
}

/** A parsed detector with what the worker reads of it for every point. */
export interface LoadedDetector {
  detector: Detector;
  source: DetectorSource;
  /** Values per point. */
  features: number;
  /** Pushes take the entry's timestamp ('gru-online' with time inputs). */
  needsTime: boolean;
  /** Raw points to keep for a later switch of version: W + 1. */
  recent: number;
  /** The threshold a warm-up output reports. */
  threshold: number;
}

/**
 * Parsed detectors by (kind, name, version), shared by the series that use them. Fitted (per-series) detectors are
 * kept up to `maxFitted` (oldest dropped first: a dropped one is fetched again when needed); templates all stay.
 */
export class DetectorCache {
  private readonly docs = new Map<string, LoadedDetector>();
  private fitted = 0;

  constructor(
    private readonly keys: FleetKeys,
    private readonly maxFitted = 10_000,
  ) {}

  private static id(kind: DetectorSource['kind'], name: string, version: number): string {
    return `${kind}\u0000${name}\u0000${version}`;
  }

  /** The cached detector, or undefined. */
  get(kind: DetectorSource['kind'], name: string, version: number): LoadedDetector | undefined {
    return this.docs.get(DetectorCache.id(kind, name, version));
  }

  /**
   * Fetches (one round trip, MULTI per document) and parses the documents not cached yet; returns, per request, the
   * loaded detector or an error sentence (absent document, unreadable, not streamable).
   */
  async load(
    r: Redis,
    wanted: Array<{ kind: DetectorSource['kind']; name: string }>,
  ): Promise<Map<string, LoadedDetector | string>> {
    const out = new Map<string, LoadedDetector | string>();
    // One MULTI for all: each document comes with the version written in the same MULTI as it (see put).
    const multi = r.multi();
    for (const w of wanted) {
      if (w.kind === 'template') multi.get(this.keys.template(w.name)).get(this.keys.templateVersion(w.name));
      else multi.get(this.keys.detector(w.name)).get(this.keys.detectorVersion(w.name));
    }
    const res = await multi.exec();
    for (let i = 0; i < wanted.length; i++) {
      const w = wanted[i];
      const key = w.kind === 'template' ? this.keys.template(w.name) : this.keys.detector(w.name);
      const tag = `${w.kind}\u0000${w.name}`;
      const docReply = res?.[2 * i],
        versionReply = res?.[2 * i + 1];
      if (!docReply || !versionReply || docReply[0] || versionReply[0]) {
        out.set(tag, `${key}: ${docReply?.[0]?.message ?? versionReply?.[0]?.message ?? 'the read was aborted'}`);
        continue;
      }
      const exec = [docReply[1], versionReply[1]];
      const doc = exec[0] as string | null,
        version = Number(exec[1] ?? 0);
      if (doc === null) {
        out.set(tag, w.kind === 'template' ? `template '${w.name}' is not stored (${key})` : `${key} is missing`);
        continue;
      }
      const cached = this.get(w.kind, w.name, version);
      if (cached) {
        out.set(tag, cached);
        continue;
      }
      try {
        const detector = parseDetector(doc, key);
        const loaded = describe(detector, { kind: w.kind, name: w.name, version });
        this.put(loaded);
        out.set(tag, loaded);
      } catch (e) {
        out.set(tag, (e as Error).message);
      }
    }
    return out;
  }

  /** Adds a parsed detector (a worker's default template is added this way at start). */
  put(loaded: LoadedDetector): void {
    const s = loaded.source;
    const id = DetectorCache.id(s.kind, s.name, s.version);
    if (this.docs.has(id)) return;
    if (s.kind === 'fitted') {
      if (this.fitted >= this.maxFitted) {
        for (const [k, v] of this.docs) {
          if (v.source.kind === 'fitted') {
            this.docs.delete(k);
            this.fitted--;
            break;
          }
        }
      }
      this.fitted++;
    }
    this.docs.set(id, loaded);
  }
}

/** What the worker reads of a detector for every point. */
export function describe(detector: Detector, source: DetectorSource): LoadedDetector {
  const o = detector.options;
  return {
    detector,
    source,
    features: detector.features,
    needsTime: o.model === 'gru-online' && o.timeFeatures !== false,
    recent: o.window + 1,
    threshold: detector.threshold,
  };
}
