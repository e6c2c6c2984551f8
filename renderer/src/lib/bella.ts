/** The preload API (`window.bella`, declared by `electron/ipc/window.d.ts`): one function per admin operation, plus `onEvent`. */
export function bella(): Window['bella'] {
  return window.bella;
}

/** The code a failed call carries (`not_found`, `conflict`, …), if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A message fit to show a person. */
export function errorText(err: unknown): string {
  if (errorCode(err) === 'unavailable') return 'The bella daemon is not answering. It restarts on its own; try again.';
  const message = err instanceof Error ? err.message : String(err);
  // Electron prefixes errors that cross IPC; people do not need to see that.
  return message.replace(/^Error invoking remote method '[^']+': (?:\w*Error: )?/, '');
}
