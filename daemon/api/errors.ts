/** The fixed set of error codes that cross the wire. */
export const ERROR_CODES = [
  'invalid_argument',
  'not_found',
  'conflict',
  'unauthenticated',
  'permission_denied',
  'token_expired',
  'token_revoked',
  'rate_limited',
  'unavailable',
  'internal',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The one table mapping an error code to its HTTP status. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  token_expired: 401,
  token_revoked: 401,
  permission_denied: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/** The error body every failed request carries: `{ "error": { code, message, details? } }`. */
export interface WireError {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/**
 * The one error type of bella. Services throw it, the server maps it to HTTP with
 * {@link HTTP_STATUS}, the client turns the wire form back into it. `expected` errors are a
 * user's mistake and are shown as one line; anything else is a bug and keeps its stack.
 */
export class BellaError extends Error {
  override readonly name = 'BellaError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** True for every code but `internal`: the message is meant for the user. */
  get expected(): boolean {
    return isExpectedError(this);
  }

  /** The wire form of this error. */
  toWire(): WireError {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }

  /** Rebuilds an error from a wire body; anything unrecognised becomes `internal`. */
  static fromWire(body: unknown, status: number): BellaError {
    const err = (body as Partial<WireError> | null)?.error;
    if (err && typeof err.message === 'string' && ERROR_CODES.includes(err.code)) {
      return new BellaError(err.code, err.message, err.details);
    }
    return new BellaError('internal', `daemon answered HTTP ${status} without an error body`);
  }
}

/**
 * The one way to tell a bella error, by its shape rather than `instanceof`: an object named
 * `BellaError` whose code is one of {@link ERROR_CODES}. The CLI, the daemon (dist/daemon.js, loaded
 * by `bella daemon run`), their chunks and Electron main each bundle their own copy of the class, so
 * an error made by one fails `instanceof` in another. With `codes`, only errors of those codes.
 */
export function isBellaError(err: unknown, ...codes: ErrorCode[]): err is BellaError {
  const e = err as { name?: unknown; code?: unknown; message?: unknown } | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.name === 'BellaError' &&
    typeof e.message === 'string' &&
    (ERROR_CODES as readonly unknown[]).includes(e.code) &&
    (codes.length === 0 || codes.includes(e.code as ErrorCode))
  );
}

/** A bella error meant for the user (every code but `internal`): shown as one line, never as a bug. */
export function isExpectedError(err: unknown): err is BellaError {
  return isBellaError(err) && err.code !== 'internal';
}

/** One problem a schema found with an input: where (the path of keys) and what. */
export interface ValidationIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly code?: string;
}

/** How many issues an invalid-input message spells out; the rest are counted, and all are in the details. */
const ISSUES_IN_MESSAGE = 3;

/**
 * The one `invalid_argument` error for input that failed validation, raised by the daemon's edge
 * and the Electron relay alike. The message puts the first issues into words
 * (`scope: name at least one key; reason: say why…`, then `(and N more)`); the details carry
 * every issue as `{ path, message, code }` with the path as strings.
 */
export function invalidInput(issues: readonly ValidationIssue[]): BellaError {
  const listed = issues.map((issue) => ({
    path: issue.path.map(String),
    message: issue.message,
    ...(issue.code === undefined ? {} : { code: issue.code }),
  }));
  const words = listed
    .slice(0, ISSUES_IN_MESSAGE)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
  const rest = listed.length - ISSUES_IN_MESSAGE;
  const message = words || 'the input is not valid';
  return new BellaError('invalid_argument', rest > 0 ? `${message} (and ${rest} more)` : message, { issues: listed });
}
