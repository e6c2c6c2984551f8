import { acting } from '../team/caller';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { cliFileUrl } from '../../api/handover';
import type { IssuedLease } from '../../api/routes';
import { BellaError, type ListenerStatus, type OperationArgs, type OperationOutput } from '../../api';
import { ensurePrivateDir, writeFileDurable } from '../../base/node/files';
import { DEFAULT_LISTENER, type ListenerSettings } from '../../store';
import type { RefusalLog } from '../refusals';
import type { ServiceContext } from '../service-context';
import { TokenRefusal } from '../token-verifier';
import { AllowList, FailureLimiter, sourceName } from './admission';
import { generateSelfSigned, loadCertificatePair, machineNames, splitNames, type CertificatePair } from './certificate';
import { holderUrls, parsePublicUrl } from './holder-urls';

/** The listener's certificate and key, in the data directory (the key 0600, like every file there). */
export function listenerFiles(home: string) {
  const dir = path.join(home, 'listener');
  return { dir, cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
}

/** The hand-over of a daemon whose listener does not serve: holders use the local socket. */
const NOT_SERVING = Object.freeze({ server: null, fingerprint: null, serverNote: null, pinnedPublicKey: null });

/**
 * What the listener asks {@link ListenerService.admit} about a source:
 * - `request`: a request arrived; outside `--allow` it is refused (403);
 * - `refused-token`: a route refused its token (401); past the allowance that becomes 429;
 * - `connection-cap`: a connection past the per-source cap of `max` was dropped (only audited).
 */
export type ListenerCheck = { kind: 'request' } | { kind: 'refused-token' } | { kind: 'connection-cap'; max: number };

/** A refusal the listener answers with (already audited). */
export interface ListenerRefusal {
  error: BellaError;
  /** For 429: when the source may try again. */
  retryAfterSeconds?: number;
}

/** Decides about one source address; null when it is served. */
export type Admit = (address: string | undefined, check: ListenerCheck) => ListenerRefusal | null;

/**
 * What the server does for the listener: bind the hardened HTTPS server serving the token plane,
 * and close it. Implemented by `daemon/server/listener.ts` (the service never imports the server).
 */
export interface ListenerBinding {
  /** Serves on `address` with `pair`, replacing what was served (a failed bind leaves nothing served). */
  bind(address: string, pair: CertificatePair, admit: Admit): Promise<void>;
  /** Stops serving. */
  unbind(): Promise<void>;
  /** The bound address, while serving. */
  bound(): AddressInfo | null;
}

/**
 * The opt-in TLS listener's settings, certificate files and their audit, and its refusals by
 * source address: `--allow` (403) and the failed-token limiter (429), audited through the
 * {@link RefusalLog}. Off until enabled; its settings are persisted and served again at start.
 * Binding is the server's ({@link ListenerBinding}).
 */
export class ListenerService {
  private pair: CertificatePair | null = null;
  private problem: string | null = null;
  private readonly limiter: FailureLimiter;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly refusals: RefusalLog,
    private readonly binding: ListenerBinding,
  ) {
    this.limiter = new FailureLimiter({ now: ctx.clock });
  }

  private get settings(): ListenerSettings {
    return this.ctx.store.state.settings.listener ?? DEFAULT_LISTENER;
  }

  private get files() {
    return listenerFiles(this.ctx.store.home);
  }

  /** At start-up: serves again what was enabled; a failure is reported by status, not fatal. */
  async resume(): Promise<void> {
    const settings = this.settings;
    if (!settings.enabled) return;
    try {
      this.pair = this.loadPair(settings);
      await this.serve(settings, this.pair);
    } catch (err) {
      this.problem = (err as Error).message;
      this.ctx.log(`listener: not serving ${settings.address}: ${this.problem}`);
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
    const previous = { pair: this.pair, settings: current, running: this.binding.bound() !== null };
    await this.serve(next, pair);
    try {
      if (fresh) await this.writePair(pair);
      await this.persist(next, 'ListenerEnabled', `serving the token plane on ${next.address} (${pair.fingerprint})`);
    } catch (err) {
      await this.binding.unbind();
      if (previous.running && previous.pair) await this.serve(previous.settings, previous.pair).catch(() => undefined);
      throw err;
    }
    this.pair = pair;
    return { listener: this.status() };
  }

  /** `bella listener disable`: nothing listens any more. */
  async disable(): Promise<OperationOutput<'disableListener'>> {
    await this.binding.unbind();
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
    if (settings.enabled) await this.serve(settings, pair);
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
    const bound = this.binding.bound();
    const listening = bound ? [formatBound(bound)] : [];
    const holders = holderUrls({ address: settings.address, boundPort: bound?.port, publicUrl: settings.publicUrl });
    return {
      enabled: settings.enabled,
      address: settings.address,
      listening,
      urls: pair ? holders.urls : [],
      publicUrl: settings.publicUrl ?? null,
      urlNote: pair ? holders.note : null,
      fingerprint: pair?.fingerprint ?? null,
      // Computed once per certificate (certificate.ts), for curl's --pinnedpubkey.
      pinnedPublicKey: pair?.publicKeyPin ?? null,
      cliUrl: pair && holders.urls[0] ? cliFileUrl(holders.urls[0]) : null,
      notAfter: pair?.notAfter ?? null,
      names: pair?.names ?? [],
      certificate: settings.certificate,
      allow: settings.allow,
      problem: settings.enabled && listening.length === 0 ? (this.problem ?? 'not listening') : null,
    };
  }

  /** What a holder on another machine needs, while the listener serves. */
  handover(): Pick<IssuedLease, 'server' | 'fingerprint' | 'serverNote' | 'pinnedPublicKey'> {
    // Asked at every issue: a daemon not serving answers at once, without reading the machine's
    // network interfaces and the certificate file as the full status does (11 % of an issue).
    if (this.binding.bound() === null) return NOT_SERVING;
    const status = this.status();
    const serving = status.urls[0] !== undefined && status.fingerprint !== null;
    return serving
      ? {
          server: status.urls[0]!,
          fingerprint: status.fingerprint,
          serverNote: status.urlNote,
          pinnedPublicKey: status.pinnedPublicKey,
        }
      : NOT_SERVING;
  }

  /** Stops serving (the daemon is stopping); the settings stay as they are. */
  stop(): Promise<void> {
    return this.binding.unbind();
  }

  /**
   * The one place the listener's refusals by source are decided and audited (aggregated in the
   * source's Denied entries; never throws). Null means: serve it.
   */
  private admit(allow: AllowList | null, address: string | undefined, check: ListenerCheck): ListenerRefusal | null {
    switch (check.kind) {
      case 'request': {
        // Defends the token plane against networks the owner did not open it to: answered 403
        // before any route runs (no token is looked at, nothing is read).
        if (!allow || allow.allows(address)) return null;
        const source = sourceName(address);
        const error = new BellaError(
          'permission_denied',
          `this listener does not allow your address (${source}): ask its owner to add it with \`bella listener enable --allow …\``,
        );
        this.audit(source, new TokenRefusal(error, null, 'not in --allow'));
        return { error };
      }
      case 'refused-token': {
        // The failed-token limiter. Every token is checked (a keyed-hash compare: cheap), so a valid
        // token is always served, whatever else comes from its address (a NAT, a CI pool). A refused
        // token counts against its source; past the allowance, its answer becomes 429 with
        // Retry-After. Defends against floods of guesses filling the log and the CPU (guessing a
        // 256-bit secret online is hopeless anyway). The refusal itself was audited by its route.
        const source = sourceName(address);
        const decision = this.limiter.recordFailure(source);
        if (decision.allowed) return null;
        const error = new BellaError(
          'rate_limited',
          `too many refused tokens from ${source}: wait ${decision.retryAfterSeconds} s and retry with a valid token`,
        );
        return { error, retryAfterSeconds: decision.retryAfterSeconds };
      }
      case 'connection-cap': {
        const source = sourceName(address);
        const error = new BellaError('unavailable', `more than ${check.max} connections at once from ${source}`);
        this.audit(source, new TokenRefusal(error, null, `more than ${check.max} connections at once`));
        return { error };
      }
    }
  }

  /** Binds with an admission check over this setting's `--allow` list. */
  private async serve(settings: ListenerSettings, pair: CertificatePair): Promise<void> {
    const allow = AllowList.parse(settings.allow);
    await this.binding.bind(settings.address, pair, (address, check) => this.admit(allow, address, check));
    this.problem = null;
  }

  /** Counts a refusal into the source's aggregated Denied entries (never throws). */
  private audit(source: string, refusal: TokenRefusal): void {
    void this.refusals.refuse(source, refusal).catch(() => undefined);
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
    await this.ctx.store.transact((state, touched) => {
      state.settings.listener = next;
      touched.setting();
      return { result: null, audit: [{ event, outcome: 'Success', actor: acting(), message }] };
    });
  }
}

/** `host:port`, IPv6 in brackets. */
export function formatBound(address: AddressInfo): string {
  return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
}

function sameNames(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((n, i) => n === [...b].sort()[i]);
}
