/**
 * The contract between the Electron main process, the preload and the renderer: which operations
 * cross IPC, on which channels, and what `window.bella` looks like. Main and preload both import
 * it and never each other; it imports only the schema-free part of the daemon's contract, so the
 * sandboxed preload bundle stays free of zod.
 */
import type { DaemonEvent } from '../../daemon/api/events';
import type { ErrorCode } from '../../daemon/api/errors';
import type { OperationInput } from '../../daemon/api/operations';
import { routes, type OperationOutput, type Plane } from '../../daemon/api/routes';

/** The names of the operations of `table` served on `plane`, in the table's order. */
export function operationsOnPlane<T extends Record<string, { plane: Plane }>, P extends Plane>(
  table: T,
  plane: P,
): Array<OperationsOnPlane<T, P>> {
  return Object.keys(table).filter((name) => table[name]!.plane === plane) as Array<OperationsOnPlane<T, P>>;
}

/** The keys of `T` whose entry is served on plane `P`. */
export type OperationsOnPlane<T extends Record<string, { plane: Plane }>, P extends Plane> = {
  [K in keyof T & string]: T[K]['plane'] extends P ? K : never;
}[keyof T & string];

/** An operation the desktop app may call: every operation of the admin plane. */
export type AdminOperationName = OperationsOnPlane<typeof routes, 'admin'>;

/** Every admin-plane operation of the contract, derived from its route table. */
export const ADMIN_OPERATION_NAMES: readonly AdminOperationName[] = Object.freeze(operationsOnPlane(routes, 'admin'));

/** True when `op` names an admin operation (an entry of the list, not a prototype key). */
export function isAdminOperation(op: unknown): op is AdminOperationName {
  return typeof op === 'string' && (ADMIN_OPERATION_NAMES as readonly string[]).includes(op);
}

/** The IPC channel of one operation. */
export function channelOf(op: AdminOperationName): `bella:${AdminOperationName}` {
  return `bella:${op}`;
}

/** The IPC channel on which main forwards daemon events to the renderer. */
export const EVENT_CHANNEL = 'bella:event';

/** The outcome of one relayed call: errors travel as values (IPC and contextBridge drop error properties). */
export type RelayResult<T = unknown> = { ok: true; value: T } | { ok: false; error: RelayError };

/** The failure half of {@link RelayResult}: the daemon's wire error. */
export interface RelayError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/**
 * `window.bella`: one function per admin operation (input optional where the operation takes
 * none), resolving to the daemon's answer or rejecting with a {@link BellaApiError}; plus
 * `onEvent` for the daemon's event stream (returns the unsubscribe function).
 */
export type BellaApi = {
  readonly [K in AdminOperationName]: Record<never, never> extends OperationInput<K>
    ? (input?: OperationInput<K>) => Promise<OperationOutput<K>>
    : (input: OperationInput<K>) => Promise<OperationOutput<K>>;
} & {
  readonly onEvent: (cb: (e: DaemonEvent) => void) => () => void;
};

/** What a failed `window.bella` call rejects with: an Error carrying the daemon's code and details. */
export interface BellaApiError extends Error {
  name: 'BellaApiError';
  code: ErrorCode;
  details?: unknown;
}
