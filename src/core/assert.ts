/**
 * Assertions that stay on in production (TigerBeetle style): a failed assertion is a programmer
 * bug, never an operational error. Split compound conditions so the message says which failed.
 */

export class AssertionError extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionError';
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** For the `default` branch of an exhaustive switch. */
export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
