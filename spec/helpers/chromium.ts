/**
 * Headless Chromium for browser specs: Debian's /usr/bin/chromium driven by puppeteer-core (which downloads no browser),
 * a fresh temporary profile per launch, and a loopback http server of the spec's own for the pages. Every request that
 * does not go to that server is aborted and recorded, so a page that reaches for the network fails its spec.
 *
 *   describe('my page', function () {
 *     let browser: Browser;
 *     before(async function () {
 *       if (!requireChromium(this)) return;          // skips visibly without a chromium; fails under CI=1
 *       browser = await launchChromium();
 *     });
 *     after(async () => browser?.close());
 *     it('loads', async () => {
 *       const server = await serveFiles({ '/index.html': { body: html } });
 *       const page = await openPage(browser, server.url('/index.html'));
 *       ...
 *       expect(page.problems()).to.deep.equal([]);
 *     });
 *   });
 *
 * CHROMIUM (environment) overrides the browser's path.
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import type { AddressInfo } from 'net';
import type { Browser, Page } from 'puppeteer-core';

/** The browser binary: $CHROMIUM, else Debian's package. */
export const CHROMIUM_PATH = process.env['CHROMIUM'] ?? '/usr/bin/chromium';

/** The flags every launch uses (headless, no sandbox as root, nothing that talks to the network on its own). */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Whether the browser exists; when it does not, why. */
export function chromiumAvailable(): { ok: true } | { ok: false; reason: string } {
  try {
    fs.accessSync(CHROMIUM_PATH, fs.constants.X_OK);
    return { ok: true };
  } catch {
    return {
      ok: false,
      reason: `no executable chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM)`,
    };
  }
}

/**
 * For a mocha `before` hook: true when chromium exists. Without it the suite is skipped with the reason printed, except
 * under CI (the environment variable CI set and not 'false'/'0'), where a missing browser is a failure.
 */
export function requireChromium(ctx: Mocha.Context): boolean {
  const a = chromiumAvailable();
  if (a.ok) return true;
  const ci = process.env['CI'];
  if (ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0') {
    throw new Error(`browser specs: ${a.reason}; CI is set, so the browser specs must run`);
  }
  console.log(`      (skipped: ${a.reason}; set CI=1 to make this a failure)`);
  ctx.skip();
  return false;
}

/** Starts chromium with CHROMIUM_FLAGS and a new temporary user-data-dir, removed when the browser closes. */
export async function launchChromium(): Promise<Browser> {
  const puppeteer = await import('puppeteer-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'bptt-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_FLAGS],
    userDataDir: profile, // puppeteer passes it as --user-data-dir
    protocolTimeout: 120_000,
  });
  browser.once('disconnected', () => {
    try {
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch {
      // chromium may still be writing its profile as it exits; a leftover temp dir is harmless
    }
  });
  return browser;
}

export interface ServedFile {
  body: string | Uint8Array;
  /** Content-Type; default from the extension (.html, .js, .css, .json, .png, .wasm), else application/octet-stream. */
  type?: string;
}

export interface FileServer {
  /** http://127.0.0.1:<port> */
  readonly origin: string;
  url(pathname: string): string;
  /** Paths requested that the server does not have (each answered 404). */
  readonly missing: string[];
  close(): Promise<void>;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
};

/**
 * Serves `files` (pathname → content) or every file under a directory from 127.0.0.1 on a free port. GET and HEAD
 * only; anything else is 405; unknown paths are 404 and recorded in `missing`.
 */
export async function serveFiles(files: Readonly<Record<string, ServedFile>> | string): Promise<FileServer> {
  const table: Record<string, ServedFile> = {};
  if (typeof files === 'string') {
    const walk = (dir: string, prefix: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p, `${prefix}${e.name}/`);
        else if (e.isFile()) table[`${prefix}${e.name}`] = { body: fs.readFileSync(p) };
      }
    };
    walk(files, '/');
  } else Object.assign(table, files);
  const missing: string[] = [];
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    const f = Object.prototype.hasOwnProperty.call(table, pathname) ? table[pathname] : undefined;
    if (f === undefined) {
      missing.push(pathname);
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    const type = f.type ?? TYPES[path.extname(pathname)] ?? 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type, 'Cache-Control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : f.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url: (p) => origin + p,
    missing,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A page with what went wrong in it recorded: console errors, uncaught exceptions, failed and blocked requests. */
export interface WatchedPage {
  readonly page: Page;
  readonly consoleErrors: string[];
  readonly pageErrors: string[];
  readonly failedRequests: string[];
  /** Every problem above, one line each (empty when the page is clean). */
  problems(): string[];
}

/**
 * Opens `url` in a new page of `browser` and waits for its load event. Requests outside `url`'s origin (other than
 * data: and blob: URLs) are aborted and recorded in failedRequests, as are requests that fail or answer ≥ 400.
 */
export async function openPage(browser: Browser, url: string): Promise<WatchedPage> {
  const page = await browser.newPage();
  const origin = new URL(url).origin;
  const consoleErrors: string[] = [],
    pageErrors: string[] = [],
    failedRequests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e instanceof Error ? e.message : String(e)}`));
  page.on('requestfailed', (r) => failedRequests.push(`request failed: ${r.url()} (${r.failure()?.errorText ?? '?'})`));
  page.on('response', (r) => {
    if (r.status() >= 400) failedRequests.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    const u = r.url();
    if (u.startsWith('data:') || u.startsWith('blob:') || u.startsWith(`${origin}/`)) void r.continue();
    else {
      failedRequests.push(`blocked (not the test's server): ${u}`);
      void r.abort('blockedbyclient');
    }
  });
  await page.goto(url, { waitUntil: 'load' });
  return {
    page,
    consoleErrors,
    pageErrors,
    failedRequests,
    problems: () => [...consoleErrors, ...pageErrors, ...failedRequests],
  };
}

/**
 * For each canvas matching `selector`: its id (or "canvas <k>") and the number of its pixels that differ from its
 * top-left pixel (0 for a blank or single-colour canvas).
 */
export async function canvasInk(page: Page, selector: string): Promise<{ id: string; ink: number }[]> {
  return page.$$eval(selector, (els) =>
    els.map((el, k) => {
      // The spec's tsconfig has no DOM library: the canvas is typed by the members used here.
      interface Canvas2d {
        id: string;
        width: number;
        height: number;
        getContext(kind: '2d'): {
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
        } | null;
      }
      const c = el as unknown as Canvas2d;
      const ctx = c.getContext('2d');
      let n = 0;
      if (ctx !== null && c.width > 0 && c.height > 0) {
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        for (let i = 4; i < d.length; i += 4) {
          if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2] || d[i + 3] !== d[3]) n++;
        }
      }
      return { id: c.id !== '' ? c.id : `canvas ${k}`, ink: n };
    }),
  );
}
