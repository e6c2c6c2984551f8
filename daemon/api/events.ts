import type { AuditEvent } from './types';

/** Names of the lease lifecycle events, in the product's own vocabulary. */
export type LeaseEventName = Extract<
  AuditEvent,
  'LeaseIssued' | 'LeaseRenewed' | 'LeaseRevoked' | 'LeaseExpired' | 'LeaseExpiringSoon' | 'LeasesExpiredAll'
>;

/**
 * One message on `/v1/events` (Server-Sent Events, `event:` = `type`). Lease events carry the
 * lease; `DataChanged` tells clients to refetch what `resource` names.
 */
export type DaemonEvent =
  | {
      type: LeaseEventName;
      at: string;
      project: string;
      environment: string;
      /** The leases concerned: one for most events, several for grouped warnings and expire-all. */
      leaseIds: string[];
      /** Expiry time for LeaseExpiringSoon/LeaseExpired, when it concerns a single instant. */
      expiresAt?: string;
    }
  | {
      type: 'DataChanged';
      at: string;
      resource: 'projects' | 'environments' | 'secrets' | 'policy' | 'notifications' | 'requests';
      project?: string;
      environment?: string;
    }
  | {
      /** A channel's outbox bound (count or age) dropped events undelivered; once until it delivers again. */
      type: 'ChannelEventsDropped';
      at: string;
      /** The channel's own scope, when it has one. */
      project?: string;
      environment?: string;
      channelId: string;
      /** The channel's name. */
      channel: string;
      /** Events dropped (the delivery log lists each). */
      dropped: number;
      reason: string;
    };

/** The SSE event type names a client can subscribe to. */
export type DaemonEventType = DaemonEvent['type'];
