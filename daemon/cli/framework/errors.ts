/** Exit codes of a command line: 0 done, 1 refused or failed, 2 called wrongly. */
export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

/** A mistake in how a command was called: exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Thrown by a command that wants a specific exit code and has said everything already. */
export class ExitCode extends Error {
  override readonly name = 'ExitCode';
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
