import type { OperationName } from '../../daemon/api/operations';

/**
 * The admin-plane operation names, as a plain list so the preload bundle does not pull in zod.
 * `admin-operations.test.ts` checks it equals the contract's `adminOperations`.
 */
export const ADMIN_OPERATION_NAMES = [
  'status',
  'shutdown',
  'listProjects',
  'createProject',
  'deleteProject',
  'listEnvironments',
  'createEnvironment',
  'deleteEnvironment',
  'getLeasePolicy',
  'setLeasePolicy',
  'clearLeasePolicy',
  'listSecrets',
  'getSecret',
  'setSecret',
  'deleteSecret',
  'importSecrets',
  'listLeases',
  'issueLease',
  'getLease',
  'renewLease',
  'revokeLease',
  'expireAll',
  'listAudit',
  'verifyAudit',
  'getNotificationSettings',
  'setNotificationSettings',
  'testNotification',
] as const satisfies readonly OperationName[];

/** An operation the desktop app may call (every operation of the admin plane). */
export type AdminOperationName = (typeof ADMIN_OPERATION_NAMES)[number];

/** The IPC channel of one operation. */
export function channelOf(op: AdminOperationName): `bella:${AdminOperationName}` {
  return `bella:${op}`;
}

/** The IPC channel on which main forwards daemon events to the renderer. */
export const EVENT_CHANNEL = 'bella:event';

/** True when `op` names an admin operation (an own entry of the list, not a prototype key). */
export function isAdminOperation(op: unknown): op is AdminOperationName {
  return typeof op === 'string' && (ADMIN_OPERATION_NAMES as readonly string[]).includes(op);
}
