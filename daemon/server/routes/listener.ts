import type { ListenerService } from '../../services/listener/service';
import type { Handlers } from '../handler-types';

/** The opt-in TLS listener (admin plane: only the owner configures it). */
export function listenerRoutes(listener: ListenerService) {
  return {
    getListener: () => ({ listener: listener.status() }),
    enableListener: (args) => listener.enable(args),
    disableListener: () => listener.disable(),
    rotateListenerCertificate: () => listener.rotate(),
  } satisfies Partial<Handlers>;
}
