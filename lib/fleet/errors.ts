/**
 * The fleet's error type. `code` tells a caller what went wrong without reading the message:
 *   'dependency'  ioredis is not installed
 *   'argument'    a bad argument or option (the message names it, what was expected and what came)
 *   'config'      the fleet's stored configuration is missing or disagrees with the caller's (partitions)
 *   'detector'    a detector document that the fleet cannot stream (combine 'mean'/'max', not fitted, unreadable)
 *   'state'       a stored checkpoint or document that fails validation
 */
export type FleetErrorCode = 'dependency' | 'argument' | 'config' | 'detector' | 'state';

/** An error of the Redis fleet (bptt/fleet); see `code`. */
export class FleetError extends Error {
  /** What kind of problem: see the module notes. */
  readonly code: FleetErrorCode;

  /**
   * @param code - The kind of problem.
   * @param message - One or two sentences: what is wrong and what to do.
   */
  constructor(code: FleetErrorCode, message: string) {
    super(message);
    this.name = 'FleetError';
    this.code = code;
  }
}
