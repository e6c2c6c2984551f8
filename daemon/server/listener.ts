import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BellaError, HTTP_STATUS, type ListenerStatus, type OperationArgs, type OperationOutput } from '../api';
import { ensurePrivateDir, writeFileDurable } from '../base/node/files';
import type { Services } from '../services';
import { TokenRefusal } from '../services/token-verifier';
import { DEFAULT_LISTENER, type ListenerSettings } from '../store';
import { createApp } from './app';
import type { Handlers } from './handler-types';
import { holderUrls, parsePublicUrl, splitAddress } from './holder-urls';
import {
  generateSelfSigned,
  loadCertificatePair,
  machineNames,
  splitNames,
  type CertificatePair,
} from './tls/certificate';
import { createHardenedServer, LISTENER_LIMITS } from './tls/hardening';
import { AllowList, FailureLimiter, limitConnectionsPerSource, normaliseAddress } from './tls/rate-limit';

/** The listener's certificate and key, in the data directory (the key 0600, like every file there). */
export function listenerFiles(home: string) {
  const dir = path.join(home, 'listener');
  return { dir, cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
}

/**
 * The opt-in TLS listener: serves the token plane — reading a lease's secrets, the holder's own
 * lease — to other machines, never the admin plane or the event stream (404 there). Off until
 * enabled; its settings are persisted and it is served again after every restart. Per source
 * address: at most {@link LISTENER_LIMITS}.maxConnectionsPerSource connections at once, and
 * refused tokens past a small rate are answered 429 with Retry-After (valid tokens are always
 * served). Addresses outside `--allow` are answered 403 and nothing else.
 */
export class TokenListener {
  private app: FastifyInstance | null = null;
  private pair: CertificatePair | null = null;
  private problem: string | null = null;
  private readonly limiter: FailureLimiter;

  constructor(
    private readonly services: Services,
    private readonly handlers: Partial<Handlers>,
    private readonly log: (message: string) => void,
  ) {
    this.limiter = new FailureLimiter({ now: services.ctx.clock });
  }

  private get settings(): ListenerSettings {
    return this.services.ctx.store.state.settings.listener ?? DEFAULT_LISTENER;
  }

  private get files() {
    return listenerFiles(this.services.ctx.store.home);
  }

  /** At start-up: serves again what was enabled; a failure is reported by status, not fatal. */
  async resume(): Promise<void> {
    const settings = this.settings;
    if (!settings.enabled) return;
    try {
      this.pair = this.loadPair(settings);
      await this.bind(settings, this.pair);
    } catch (err) {
      this.problem = (err as Error).message;
      this.log(`listener: not serving ${settings.address}: ${this.problem}`);
    }
  }

  /** `bella listener enable`: (re)binds, generating a certificate on first use, then persists. */
  async enable(args: OperationArgs<'enableListener'>): Promise<OperationOutput<'enableListener'>> {
    const current = this.settings;
    const names = args.names ?? current.names;
    const allow = AllowList.parse(args.allow ?? current.allow)?.entries ?? [];
    const next: ListenerSettings = {
      ...current,
      enabled: true,
      address: args.address ?? current.address,
      names,
      allow,
    };
    if (args.publicUrl !== undefined) {
      const publicUrl = parsePublicUrl(args.publicUrl);
      if (publicUrl) next.publicUrl = publicUrl;
      else delete next.publicUrl;
    }
    let pair: CertificatePair;
    let fresh = false;
    if (args.certPem !== undefined || args.keyPem !== undefined) {
      if (!args.certPem || !args.keyPem) {
        throw new BellaError(
          'invalid_argument',
          'give both --cert FILE and --key FILE, or neither for a self-signed certificate',
        );
      }
      pair = loadCertificatePair(args.certPem, args.keyPem, {
        certLabel: 'the --cert file',
        keyLabel: 'the --key file',
      });
      next.certificate = 'own';
      fresh = true;
    } else if (current.certificate && sameNames(current.names, names) && fs.existsSync(this.files.cert)) {
      pair = this.loadPair(current);
    } else {
      pair = await this.generate(names);
      next.certificate = 'self-signed';
      fresh = true;
    }
    const previous = { pair: this.pair, settings: current, running: this.app !== null };
    await this.bind(next, pair);
    try {
      if (fresh) await this.writePair(pair);
      await this.persist(next, 'ListenerEnabled', `serving the token plane on ${next.address} (${pair.fingerprint})`);
    } catch (err) {
      await this.unbind();
      if (previous.running && previous.pair) await this.bind(previous.settings, previous.pair).catch(() => undefined);
      throw err;
    }
    this.pair = pair;
    return { listener: this.status() };
  }

  /** `bella listener disable`: nothing listens any more. */
  async disable(): Promise<OperationOutput<'disableListener'>> {
    await this.unbind();
    this.problem = null;
    if (this.settings.enabled) {
      await this.persist(
        { ...this.settings, enabled: false },
        'ListenerDisabled',
        'the token plane is served on the socket only',
      );
    }
    return { listener: this.status() };
  }

  /** `bella listener rotate-cert`: a new self-signed certificate (and fingerprint). */
  async rotate(): Promise<OperationOutput<'rotateListenerCertificate'>> {
    const settings = this.settings;
    if (settings.certificate === 'own') {
      throw new BellaError(
        'conflict',
        'the listener serves a certificate of your own CA: renew it there and give it with `bella listener enable --cert FILE --key FILE`',
      );
    }
    const pair = await this.generate(settings.names);
    if (settings.enabled) await this.bind(settings, pair);
    await this.writePair(pair);
    this.pair = pair;
    await this.persist(
      { ...settings, certificate: 'self-signed' },
      'ListenerCertificateRotated',
      `new certificate ${pair.fingerprint}: give holders the new BELLA_SERVER_FINGERPRINT`,
    );
    return { listener: this.status() };
  }

  /** What `bella listener status` shows. */
  status(): ListenerStatus {
    const settings = this.settings;
    const pair = this.pair ?? (settings.certificate && fs.existsSync(this.files.cert) ? this.tryLoad(settings) : null);
    const listening = this.listening();
    const holders = holderUrls({
      address: settings.address,
      boundPort: this.boundPort(),
      publicUrl: settings.publicUrl,
    });
    return {
      enabled: settings.enabled,
      address: settings.address,
      listening,
      urls: pair ? holders.urls : [],
      publicUrl: settings.publicUrl ?? null,
      urlNote: pair ? holders.note : null,
      fingerprint: pair?.fingerprint ?? null,
      notAfter: pair?.notAfter ?? null,
      names: pair?.names ?? [],
      certificate: settings.certificate,
      allow: settings.allow,
      problem: settings.enabled && listening.length === 0 ? (this.problem ?? 'not listening') : null,
    };
  }

  /** What a holder on another machine needs, while the listener serves. */
  handover(): { server: string | null; fingerprint: string | null; serverNote: string | null } {
    const status = this.status();
    const serving = this.app !== null && status.urls[0] !== undefined && status.fingerprint !== null;
    return serving
      ? { server: status.urls[0]!, fingerprint: status.fingerprint, serverNote: status.urlNote }
      : { server: null, fingerprint: null, serverNote: null };
  }

  /** Stops serving (the daemon is stopping); the settings stay as they are. */
  stop(): Promise<void> {
    return this.unbind();
  }

  /** The port actually bound (port 0 in the settings means any free one), while listening. */
  private boundPort(): number | undefined {
    return (this.app?.server.address() as AddressInfo | null | undefined)?.port;
  }

  private listening(): string[] {
    const address = this.app?.server.address() as AddressInfo | null | undefined;
    if (!address) return [];
    return [address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`];
  }

  private async bind(settings: ListenerSettings, pair: CertificatePair): Promise<void> {
    const { host, port } = splitAddress(settings.address);
    const allow = AllowList.parse(settings.allow);
    const { app } = createApp(this.services, this.handlers, this.log, {
      planes: ['token'],
      events: false,
      bodyLimit: LISTENER_LIMITS.bodyLimitBytes,
      source: (request) => sourceOf(request),
      serverFactory: (handler) => {
        const server = createHardenedServer(pair, handler);
        const max = LISTENER_LIMITS.maxConnectionsPerSource;
        limitConnectionsPerSource(server, max, (address) => {
          const source = normaliseAddress(address)?.address ?? address ?? 'unknown';
          const error = new BellaError('unavailable', `more than ${max} connections at once from ${source}`);
          this.audit(source, new TokenRefusal(error, null, `more than ${max} connections at once`));
        });
        return server;
      },
    });
    app.addHook('onRequest', (request, reply, done) => this.checkAllowed(allow, request, reply, done));
    app.addHook('onSend', (request, reply, payload, done) => done(null, this.throttle(request, reply, payload)));
    // One address, one server: the one serving now stops first (a failed bind leaves none).
    await this.unbind();
    try {
      await app.listen({ host, port });
    } catch (err) {
      await app.close().catch(() => undefined);
      throw bindError(err, settings.address);
    }
    this.app = app;
    this.problem = null;
    this.log(`listener: serving the token plane on ${this.listening().join(', ')} (${pair.fingerprint})`);
  }

  /**
   * `--allow`: a request from outside the list is answered 403 saying so, before any route runs
   * (no token is looked at, nothing is read), and counted in the source's Denied entries.
   */
  private checkAllowed(allow: AllowList | null, request: FastifyRequest, reply: FastifyReply, done: () => void): void {
    if (!allow || allow.allows(request.socket.remoteAddress)) return done();
    const source = sourceOf(request);
    const error = new BellaError(
      'permission_denied',
      `this listener does not allow your address (${source}): ask its owner to add it with \`bella listener enable --allow …\``,
    );
    this.audit(source, new TokenRefusal(error, null, 'not in --allow'));
    // Defends the token plane against networks the owner did not open it to.
    void reply.status(HTTP_STATUS[error.code]).header('connection', 'close').send(error.toWire());
  }

  /**
   * The failed-token limiter. Every token is checked (a keyed-hash compare: cheap), so a valid
   * token is always served, whatever else comes from its address (a NAT, a CI pool). A refused
   * token (401) counts against its source; past the allowance, its answer becomes 429 with
   * Retry-After. Defends against floods of guesses filling the log and the CPU; guessing a
   * 256-bit secret online is hopeless anyway. Its refusals stay in the aggregated trail.
   */
  private throttle(request: FastifyRequest, reply: FastifyReply, payload: unknown): unknown {
    if (reply.statusCode !== HTTP_STATUS.unauthenticated) return payload;
    const source = sourceOf(request);
    const decision = this.limiter.recordFailure(source);
    if (decision.allowed) return payload;
    const error = new BellaError(
      'rate_limited',
      `too many refused tokens from ${source}: wait ${decision.retryAfterSeconds} s and retry with a valid token`,
    );
    void reply.status(HTTP_STATUS[error.code]).header('retry-after', String(decision.retryAfterSeconds));
    return JSON.stringify(error.toWire());
  }

  /** Counts a refusal into the source's aggregated Denied entries (never throws). */
  private audit(source: string, refusal: TokenRefusal): void {
    void this.services.refusals.refuse(source, refusal).catch(() => undefined);
  }

  private async unbind(): Promise<void> {
    const app = this.app;
    this.app = null;
    if (app) await app.close();
  }

  private async generate(names: string[]): Promise<CertificatePair> {
    const machine = machineNames();
    const extra = splitNames(names);
    return generateSelfSigned({
      dnsNames: [...new Set([...extra.dnsNames, ...machine.dnsNames])],
      ipAddresses: [...new Set([...extra.ipAddresses, ...machine.ipAddresses])],
    });
  }

  private async writePair(pair: CertificatePair): Promise<void> {
    ensurePrivateDir(this.files.dir);
    // The key is as sensitive as the master key: owner-only, written whole or not at all.
    await writeFileDurable(this.files.key, pair.keyPem);
    await writeFileDurable(this.files.cert, pair.certPem);
  }

  private loadPair(settings: ListenerSettings): CertificatePair {
    try {
      return loadCertificatePair(fs.readFileSync(this.files.cert, 'utf8'), fs.readFileSync(this.files.key, 'utf8'), {
        certLabel: this.files.cert,
        keyLabel: this.files.key,
      });
    } catch (err) {
      const fix =
        settings.certificate === 'own'
          ? 'give a valid one with `bella listener enable --cert FILE --key FILE`'
          : 'run `bella listener rotate-cert`';
      throw new BellaError('unavailable', `${(err as Error).message} (${fix})`);
    }
  }

  private tryLoad(settings: ListenerSettings): CertificatePair | null {
    try {
      return this.loadPair(settings);
    } catch {
      return null;
    }
  }

  private async persist(
    next: ListenerSettings,
    event: 'ListenerEnabled' | 'ListenerDisabled' | 'ListenerCertificateRotated',
    message: string,
  ): Promise<void> {
    await this.services.ctx.store.transact((state, touched) => {
      state.settings.listener = next;
      touched.setting();
      return { result: null, audit: [{ event, outcome: 'Success', actor: 'owner', message }] };
    });
  }
}

function sameNames(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((n, i) => n === [...b].sort()[i]);
}

/** A request's source as the audit trail shows it: the peer's address. */
function sourceOf(request: FastifyRequest): string {
  const raw = request.socket.remoteAddress;
  return normaliseAddress(raw)?.address ?? raw ?? 'unknown';
}

function bindError(err: unknown, address: string): BellaError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE':
      return new BellaError('conflict', `${address} is already in use: choose another with --address HOST:PORT`);
    case 'EACCES':
      return new BellaError(
        'permission_denied',
        `not allowed to listen on ${address} (ports below 1024 need privileges): choose --address HOST:PORT with a port of 1024 or more`,
      );
    case 'EADDRNOTAVAIL':
      return new BellaError(
        'invalid_argument',
        `${address} is not an address of this machine: choose --address HOST:PORT with one of its addresses, or 0.0.0.0`,
      );
    default:
      return new BellaError('unavailable', `cannot listen on ${address}: ${(err as Error).message}`);
  }
}
