import type http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';

/** The limits every bella TLS listener runs with. Tests shrink them; the daemon uses {@link LISTENER_LIMITS}. */
export interface ListenerLimits {
  /** The TLS handshake must finish within this (a peer that opens TCP and stalls). */
  handshakeTimeoutMs: number;
  /** The request headers must be complete within this, from the connection's start (slowloris). */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this (slow bodies). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic at all is destroyed after this. */
  idleTimeoutMs: number;
  /** How often Node sweeps connections for the header and request timeouts. */
  connectionsCheckingIntervalMs: number;
  /** Concurrent connections; more are closed at once. */
  maxConnections: number;
  /** Concurrent connections of one source address (IPv6: one /64); more from it are closed at once. */
  maxConnectionsPerSource: number;
  /** Requests served on one keep-alive connection before it is closed. */
  maxRequestsPerSocket: number;
  /** Largest header block, in bytes. */
  maxHeaderBytes: number;
  /** Most header lines in one request. */
  maxHeadersCount: number;
  /** Largest request body, in bytes (the token plane only reads; its bodies are tiny). */
  bodyLimitBytes: number;
}

/** The listener's limits. */
export const LISTENER_LIMITS: Readonly<ListenerLimits> = Object.freeze({
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 60_000,
  connectionsCheckingIntervalMs: 1_000,
  maxConnections: 512,
  // An eighth of the total: one peer or NAT cannot take every slot, and a CI pool behind one
  // address still runs dozens of jobs at once.
  maxConnectionsPerSource: 64,
  maxRequestsPerSocket: 10_000,
  maxHeaderBytes: 8 * 1024,
  maxHeadersCount: 64,
  bodyLimitBytes: 16 * 1024,
});

/**
 * The TLS settings of the listener: TLS 1.2 and 1.3 only (1.3 negotiated whenever the peer
 * has it), forward-secret AEAD suites only, the server's preference order.
 */
export const TLS_SETTINGS = Object.freeze({
  // Defends against downgrade to SSLv3/TLS 1.0/1.1 and their known attacks (POODLE, BEAST).
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  // ECDHE + AEAD only: forward secrecy (a later key theft does not decrypt recorded traffic), no CBC padding oracles.
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
} satisfies tls.SecureContextOptions);

/** The certificate and key a listener serves (a {@link CertificatePair} fits). */
export interface ServedPair {
  certPem: string;
  keyPem: string;
}

/**
 * The options for `https.createServer` (or `tls.createServer`) of a bella listener: the pair,
 * {@link TLS_SETTINGS} and the creation-time limits. Apply the rest with {@link applyHardening}.
 */
export function listenerServerOptions(pair: ServedPair, limits: ListenerLimits = LISTENER_LIMITS): https.ServerOptions {
  return {
    ...TLS_SETTINGS,
    cert: pair.certPem,
    key: pair.keyPem,
    // Teammates' devices present a self-signed client certificate made from their device key; it is
    // asked for but not required (holders and CI jobs have none) and not checked against any CA:
    // the handshake proves the key is held, and the key is mapped to an enrolled device, or to nothing.
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: limits.handshakeTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.connectionsCheckingIntervalMs,
    maxHeaderSize: limits.maxHeaderBytes,
    // Defends against request smuggling through lenient parsing of malformed headers.
    insecureHTTPParser: false,
    noDelay: true,
  };
}

/**
 * Applies the runtime limits to a listener: connection cap, per-socket request cap, header,
 * request, keep-alive and idle timeouts, and no TLS renegotiation.
 */
export function applyHardening(server: https.Server | tls.Server, limits: ListenerLimits = LISTENER_LIMITS): void {
  // Defends against connection floods exhausting file descriptors and memory.
  server.maxConnections = limits.maxConnections;
  if (server instanceof https.Server) {
    // Slowloris: headers trickled, bodies trickled, idle keep-alives hoarded.
    server.headersTimeout = limits.headersTimeoutMs;
    server.requestTimeout = limits.requestTimeoutMs;
    server.keepAliveTimeout = limits.keepAliveTimeoutMs;
    // Defends against one connection monopolising the listener, and against header floods.
    server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
    server.maxHeadersCount = limits.maxHeadersCount;
    server.setTimeout(limits.idleTimeoutMs);
  }
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    // Defends against renegotiation floods (TLS 1.2 lets a client force costly handshakes).
    socket.disableRenegotiation();
    if (!(server instanceof https.Server)) socket.setTimeout(limits.idleTimeoutMs, () => socket.destroy());
  });
}

/**
 * An HTTPS server with every listener limit applied (the app adds its request handler, and reads
 * bodies up to `LISTENER_LIMITS.bodyLimitBytes`).
 */
export function createHardenedServer(
  pair: ServedPair,
  handler?: http.RequestListener,
  limits: ListenerLimits = LISTENER_LIMITS,
): https.Server {
  const server = https.createServer(listenerServerOptions(pair, limits), handler);
  applyHardening(server, limits);
  return server;
}
