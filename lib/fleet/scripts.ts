/**
 * The fleet's Lua scripts: fixed text, loaded once per connection with ioredis's defineCommand (EVALSHA, falling back
 * to EVAL after a Redis restart empties the script cache); every value travels as KEYS or ARGV, never in the text.
 *
 * commit (one per partition batch, atomic: Redis runs a script with no other command in between)
 *   KEYS   lease, pos, ckpt, out, dead, in
 *   ARGV   leaseValue, leaseMs, expectedPos, firstNew, newPos, newCount, group,
 *          nOut,  then per output:      id, series, ts, index, score, flag, threshold, event, version, warmup (0/1)
 *                                       (the field names are in the script: 10 values per output, not 20)
 *          nCkpt, then per series:      series, checkpoint JSON
 *          nDead, then per dead letter: nFields, field, value, …
 *          nAck,  then the input IDs to XACK
 *   1. fencing: the lease must still hold leaseValue ("<worker> <token>"), else 'LEASE' and nothing is written;
 *   2. position: the partition's committed position must be expectedPos, else 'POS' (another commit got there first);
 *   3. no gap: no input entry may lie strictly between the position and firstNew (the batch's first new entry), else
 *      'GAP' (entries delivered to another consumer, e.g. a zombie that read after losing its lease: the caller
 *      reclaims them with XAUTOCLAIM and processes them in order);
 *   4. the output stream's last ID must be below the first output ID, else 'OUT' (checked before writing anything, so
 *      an XADD cannot fail half-way);
 *   then it XADDs the outputs with the input IDs as their IDs, HSETs the checkpoints, XADDs the dead letters, XACKs,
 *   moves the position to newPos (count += newCount), renews the lease, and returns 'OK'.
 *
 * acquire  KEYS lease, fence; ARGV worker, leaseMs → the new fencing token, or 0 when the lease is held
 * renew    KEYS lease; ARGV leaseValue, leaseMs → 1, or 0 when the lease is no longer ours
 * release  KEYS lease; ARGV leaseValue → 1, or 0 when it was not ours
 */
import type { ChainableCommander, Redis } from 'ioredis';

const COMMIT = `
local lease = redis.call('GET', KEYS[1])
if lease ~= ARGV[1] then return 'LEASE' end
local pos = redis.call('HGET', KEYS[2], 'id')
if not pos then pos = '0-0' end
if pos ~= ARGV[3] then return 'POS' end
if ARGV[4] ~= '' then
  local gap = redis.call('XRANGE', KEYS[6], '(' .. pos, '(' .. ARGV[4], 'COUNT', 1)
  if #gap > 0 then return 'GAP' end
end
local i = 8
local nOut = tonumber(ARGV[i])
if nOut > 0 then
  local top = redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', 1)
  if #top > 0 then
    local a, b = string.match(top[1][1], '^(%d+)-(%d+)$')
    local c, d = string.match(ARGV[i + 1], '^(%d+)-(%d+)$')
    a, b, c, d = tonumber(a), tonumber(b), tonumber(c), tonumber(d)
    if a > c or (a == c and b >= d) then return 'OUT' end
  end
end
i = i + 1
for _ = 1, nOut do
  local id = ARGV[i]
  if ARGV[i + 9] == '1' then
    redis.call('XADD', KEYS[4], id, 'series', ARGV[i + 1], 'ts', ARGV[i + 2], 'index', ARGV[i + 3],
      'score', ARGV[i + 4], 'flag', ARGV[i + 5], 'threshold', ARGV[i + 6], 'event', ARGV[i + 7],
      'version', ARGV[i + 8], 'in', id, 'warmup', '1')
  else
    redis.call('XADD', KEYS[4], id, 'series', ARGV[i + 1], 'ts', ARGV[i + 2], 'index', ARGV[i + 3],
      'score', ARGV[i + 4], 'flag', ARGV[i + 5], 'threshold', ARGV[i + 6], 'event', ARGV[i + 7],
      'version', ARGV[i + 8], 'in', id)
  end
  i = i + 10
end
local nCkpt = tonumber(ARGV[i])
i = i + 1
for _ = 1, nCkpt do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  i = i + 2
end
local nDead = tonumber(ARGV[i])
i = i + 1
for _ = 1, nDead do
  local nf = tonumber(ARGV[i])
  local args = {}
  for j = 1, nf do args[j] = ARGV[i + j] end
  redis.call('XADD', KEYS[5], '*', unpack(args))
  i = i + 1 + nf
end
local nAck = tonumber(ARGV[i])
i = i + 1
local ids = {}
for _ = 1, nAck do
  ids[#ids + 1] = ARGV[i]
  i = i + 1
  if #ids == 500 then
    redis.call('XACK', KEYS[6], ARGV[7], unpack(ids))
    ids = {}
  end
end
if #ids > 0 then redis.call('XACK', KEYS[6], ARGV[7], unpack(ids)) end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[2], 'id', ARGV[5])
  redis.call('HINCRBY', KEYS[2], 'count', ARGV[6])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 'OK'
`;

const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. t, 'PX', ARGV[2])
return t
`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

type Arg = string | number;

/** The scripts as commands of a client or a pipeline. */
export interface FleetCommands {
  bpttFleetCommit(...args: Arg[]): Promise<string>;
  bpttFleetAcquire(lease: string, fence: string, worker: string, leaseMs: number): Promise<number>;
  bpttFleetRenew(lease: string, value: string, leaseMs: number): Promise<number>;
  bpttFleetRelease(lease: string, value: string): Promise<number>;
}

/** The same commands queued on a pipeline. */
export interface FleetPipelineCommands {
  bpttFleetCommit(...args: Arg[]): ChainableCommander;
  bpttFleetRenew(lease: string, value: string, leaseMs: number): ChainableCommander;
  bpttFleetRelease(lease: string, value: string): ChainableCommander;
}

/** Defines the scripts on a client (idempotent) and returns it typed with them. */
export function withScripts(r: Redis): Redis & FleetCommands {
  const has = r as unknown as Partial<FleetCommands>;
  if (typeof has.bpttFleetCommit !== 'function') {
    r.defineCommand('bpttFleetCommit', { numberOfKeys: 6, lua: COMMIT });
    r.defineCommand('bpttFleetAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    r.defineCommand('bpttFleetRenew', { numberOfKeys: 1, lua: RENEW });
    r.defineCommand('bpttFleetRelease', { numberOfKeys: 1, lua: RELEASE });
  }
  return r as Redis & FleetCommands;
}
