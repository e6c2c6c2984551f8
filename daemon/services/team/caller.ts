import { AsyncLocalStorage } from 'node:async_hooks';
import type { StoredDevice, StoredMember } from '../../store';
import type { Actor } from '../service-context';

/** Who makes the request being served: the owner (local socket), or a teammate's enrolled device. */
export type Caller = { kind: 'owner' } | { kind: 'member'; member: StoredMember; device: StoredDevice };

const current = new AsyncLocalStorage<Caller>();

/**
 * Serves `fn` as `caller`: every audit entry written for it names that caller ({@link acting}).
 * The server sets it once per request; services never pass it along by hand.
 */
export function actingAs<T>(caller: Caller, fn: () => T): T {
  return current.run(caller, fn);
}

/** The caller of the request being served; the owner outside any request (timers, start-up). */
export function caller(): Caller {
  return current.getStore() ?? { kind: 'owner' };
}

/** How the audit trail names the caller: `owner`, or `alice (device sha256:…)`. */
export function acting(): Actor {
  const c = caller();
  return c.kind === 'owner' ? 'owner' : actorName(c.member, c.device);
}

/** `NAME (device sha256:…)`. */
export function actorName(member: StoredMember, device: StoredDevice): Actor {
  return `${member.name} (device ${device.id as `sha256:${string}`})`;
}
