import type { Services } from '../../services';
import type { Handlers } from '../handler-types';

/** Notification channels and their delivery log. */
export function channelRoutes({ channels }: Services) {
  return {
    listChannels: () => channels.list(),
    addChannel: (args) => channels.add(args),
    removeChannel: (args) => channels.remove(args),
    testChannel: (args) => channels.test(args),
    rotateChannelSecret: (args) => channels.rotateSecret(args),
    enableChannel: (args) => channels.enable(args),
    disableChannel: (args) => channels.disable(args),
    listDeliveries: (args) => channels.deliveries(args),
    retryDelivery: (args) => channels.retry(args),
  } satisfies Partial<Handlers>;
}
