/**
 * What every `bptt fleet` subcommand checks the same way (lib/cli/fleet.ts and lib/cli/fleet-train.ts): `--redis` (a
 * redis:// or rediss:// URL with a host), `--prefix`, and no positional arguments. Each mistake is a UserError naming
 * the flag, raised before anything connects.
 */
import { UserError } from './errors.js';
import * as opt from './options.js';

/** The options every fleet subcommand takes. */
export interface Common {
  redis: string;
  prefix: string;
}

/** `--redis` (required) and `--prefix` (default 'bptt') of subcommand `sub`, checked. */
export function commonOptions(sub: string, v: opt.Values): Common {
  const url = opt.str(v, 'redis');
  if (url === undefined) throw new UserError(`fleet ${sub}: --redis URL is required (see bptt fleet ${sub} --help)`);
  checkRedisUrl(url);
  const prefix = opt.str(v, 'prefix') ?? 'bptt';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) {
    const expected = 'letters, digits, _ . or - (1 to 64 of them)';
    throw new UserError(`--prefix: expected ${expected}, got ${JSON.stringify(prefix)}`, {
      argument: '--prefix',
      expected,
      actual: JSON.stringify(prefix),
    });
  }
  return { redis: url, prefix };
}

/** A redis:// or rediss:// URL with a host, or a UserError naming --redis. */
export function checkRedisUrl(url: string): void {
  let u: URL | null = null;
  try {
    u = new URL(url);
  } catch {
    /* reported below */
  }
  if (u === null || (u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '') {
    const expected = 'a redis:// or rediss:// URL such as redis://127.0.0.1:6379';
    throw new UserError(`--redis: expected ${expected}, got ${JSON.stringify(url)}`, {
      argument: '--redis',
      expected,
      actual: JSON.stringify(url),
    });
  }
}

/** A UserError for the first positional argument of a subcommand that takes options only. */
export function noPositionals(sub: string, positionals: string[]): void {
  if (positionals.length > 0) {
    throw new UserError(
      `fleet ${sub}: unexpected argument ${JSON.stringify(positionals[0])} (see bptt fleet ${sub} --help)`,
      {
        argument: positionals[0],
        expected: 'options only',
        actual: positionals[0],
      },
    );
  }
}
