import type net from 'node:net';
import { sourceKey } from '../../services/listener/admission';

/**
 * Caps the connections one source (an IPv4 address, an IPv6 /64: {@link sourceKey}) holds open
 * at once: past `max`, a new connection from it is dropped as it is accepted, before TLS, and
 * `onRefused` may count or audit it. Connections from other sources are not affected.
 */
export function limitConnectionsPerSource(
  server: net.Server,
  max: number,
  onRefused: (address: string | undefined) => void,
): void {
  const open = new Map<string, number>();
  server.prependListener('connection', (socket: net.Socket) => {
    const key = sourceKey(socket.remoteAddress);
    const count = open.get(key) ?? 0;
    if (count >= max) {
      // Defends the other holders against one peer (or one NAT) taking every connection slot.
      socket.destroy();
      onRefused(socket.remoteAddress);
      return;
    }
    open.set(key, count + 1);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
  });
}
