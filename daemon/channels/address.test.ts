import type dns from 'node:dns';
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bellaErrorOf, startReceiver, type Receiver } from '../../test/helpers/channels';
import { addressRefusal, checkChannelAddress, checkChannelUrl, type DnsLookup, type UrlRules } from './address';
import { DEFAULT_SEND_OPTIONS, send } from './send';

// Nothing here sends to a link-local, private-range or public address: refusals are decided before
// any connection (asserted), and the only receiver is on 127.0.0.1.

const STRICT: UrlRules = { kind: 'webhook', allowPrivate: false, insecureHttp: false, anyHost: false };
const LOOSE: UrlRules = { kind: 'webhook', allowPrivate: true, insecureHttp: true, anyHost: false };

/** A DNS lookup that answers `addresses` for every name, and counts its calls. */
function fakeDns(...addresses: string[]): DnsLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = (hostname: string, _options: dns.LookupAllOptions, callback: Parameters<DnsLookup>[2]) => {
    calls.push(hostname);
    queueMicrotask(() =>
      callback(
        null,
        addresses.map((address) => ({ address, family: net.isIP(address) })),
      ),
    );
  };
  return Object.assign(lookup, { calls });
}

const receivers: Receiver[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const r of receivers.splice(0)) await r.close();
});

describe('addressRefusal', () => {
  it('never allows link-local, metadata, unspecified, multicast, broadcast and tunnel addresses, flags or not', () => {
    for (const address of [
      '169.254.169.254',
      '169.254.170.2',
      '100.100.100.200',
      'fe80::1',
      'fd00:ec2::254',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
      '64:ff9b::169.254.169.254',
      '0.0.0.0',
      '0.1.2.3',
      '::',
      '224.0.0.1',
      'ff02::1',
      '255.255.255.255',
      '240.0.0.1',
      '2002:a9fe:a9fe::1',
      '2001:0:4136:e378::1',
    ]) {
      expect(addressRefusal(address, address, { allowPrivate: true }), address).toMatch(/bella never sends there$/);
    }
  });

  it('loopback and private ranges need --allow-private', () => {
    for (const address of [
      '127.0.0.1',
      '127.8.9.10',
      '10.0.0.5',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '::1',
      'fc00::1',
      'fd12:3456::1',
      '::ffff:10.0.0.5',
      '::ffff:127.0.0.1',
      '64:ff9b::10.0.0.5',
    ]) {
      expect(addressRefusal(address, address, { allowPrivate: false }), address).toBe(
        `the URL's host ${address} is a loopback or private address: pass --allow-private to allow it`,
      );
      expect(addressRefusal(address, address, { allowPrivate: true }), address).toBeNull();
    }
  });

  it('public addresses pass', () => {
    for (const address of ['93.184.216.34', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '64:ff9b::93.184.216.34']) {
      expect(addressRefusal(address, address, { allowPrivate: false }), address).toBeNull();
    }
  });
});

describe('checkChannelUrl', () => {
  it('reads IP literals the way the URL parser does: decimal, hex and mapped forms are caught', () => {
    for (const url of [
      'https://169.254.169.254/latest/meta-data',
      'https://2852039166/',
      'https://0xa9.0xfe.0xa9.0xfe/',
      'https://[::ffff:169.254.169.254]/',
      'https://[fd00:ec2::254]/',
      'https://0/',
    ]) {
      expect(bellaErrorOf(() => checkChannelUrl(url, { ...LOOSE })).message, url).toMatch(/never sends there/);
    }
    expect(bellaErrorOf(() => checkChannelUrl('https://0x7f.1/', STRICT)).message).toBe(
      "the URL's host 127.0.0.1 is a loopback or private address: pass --allow-private to allow it",
    );
  });

  it('plain http:// needs --insecure-http', () => {
    expect(bellaErrorOf(() => checkChannelUrl('http://example.com/hook', STRICT)).message).toMatch(
      /plain http:\/\/.*pass --insecure-http/,
    );
    expect(checkChannelUrl('http://example.com/hook', { ...STRICT, insecureHttp: true }).host).toBe('example.com');
  });

  it('slack posts only to hooks.slack.com, discord only to its webhooks, unless --any-host; the path is never echoed', () => {
    const slack: UrlRules = { ...STRICT, kind: 'slack' };
    const discord: UrlRules = { ...STRICT, kind: 'discord' };
    expect(checkChannelUrl('https://hooks.slack.com/services/T0/B0/SECRET', slack).host).toBe('hooks.slack.com');
    expect(checkChannelUrl('https://discord.com/api/webhooks/1/SECRET', discord).host).toBe('discord.com');
    expect(checkChannelUrl('https://discordapp.com/api/webhooks/1/SECRET', discord).host).toBe('discordapp.com');
    const wrongSlack = bellaErrorOf(() =>
      checkChannelUrl('https://hooks.slack.com.evil.example/services/SECRET', slack),
    );
    expect(wrongSlack.message).toBe(
      'a slack channel posts only to https://hooks.slack.com/… (got hooks.slack.com.evil.example): pass --any-host to allow another host',
    );
    for (const url of ['https://discord.com/other/SECRET', 'https://evil.example/api/webhooks/1/SECRET']) {
      const error = bellaErrorOf(() => checkChannelUrl(url, discord));
      expect(error.message).toMatch(/pass --any-host/);
      expect(error.message).not.toContain('SECRET');
    }
    expect(checkChannelUrl('https://chat.example/hooks/x', { ...slack, anyHost: true }).host).toBe('chat.example');
  });

  it('checks the resolved addresses of a name at add: all of them', async () => {
    const rebinding = fakeDns('93.184.216.34', '10.0.0.7');
    const error = await checkChannelAddress('https://hook.example/x', STRICT, rebinding).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      "the URL's host hook.example resolves to 10.0.0.7, a loopback or private address: pass --allow-private to allow it",
    );
    expect(rebinding.calls).toEqual(['hook.example']);
    expect((await checkChannelAddress('https://hook.example/x', STRICT, fakeDns('93.184.216.34'))).host).toBe(
      'hook.example',
    );
  });
});

describe('send checks the addresses at every send (DNS rebinding)', () => {
  it('a name resolving to 169.254.169.254 is refused before any connection is attempted', async () => {
    // A socket emits connectionAttempt just before it opens the TCP connection: throwing there
    // stops it, so a send whose check were broken fails this test instead of reaching the address.
    const attempts: unknown[][] = [];
    const emit = net.Socket.prototype.emit;
    vi.spyOn(net.Socket.prototype, 'emit').mockImplementation(function (
      this: net.Socket,
      name: string | symbol,
      ...args: unknown[]
    ) {
      if (name === 'connectionAttempt') {
        attempts.push(args);
        throw new Error(`this test lets no socket connect (attempted ${args.join(':')})`);
      }
      return emit.apply(this, [name, ...args] as Parameters<typeof emit>);
    });
    const dnsAnswer = fakeDns('169.254.169.254');
    const result = await send(
      { url: 'https://metadata.example/latest', headers: {}, body: '{}', rules: LOOSE },
      { ...DEFAULT_SEND_OPTIONS, lookup: dnsAnswer },
    );
    expect(result).toEqual({
      outcome: 'retry',
      status: null,
      error:
        "the URL's host metadata.example resolves to 169.254.169.254, a link-local or cloud metadata address: bella never sends there",
      responseBytes: 0,
    });
    expect(dnsAnswer.calls).toEqual(['metadata.example']);
    expect(attempts).toEqual([]);
  });

  it('connects to the checked address, keeping the name as Host; refused without --allow-private', async () => {
    const r = await startReceiver();
    receivers.push(r);
    const port = new URL(r.url).port;
    const request = { url: `http://hook.example:${port}/hook`, headers: {}, body: '{}' };
    const options = { ...DEFAULT_SEND_OPTIONS, lookup: fakeDns('127.0.0.1') };
    const refused = await send({ ...request, rules: { ...LOOSE, allowPrivate: false } }, options);
    expect(refused).toMatchObject({ outcome: 'retry', error: expect.stringMatching(/pass --allow-private/) });
    expect(r.received).toHaveLength(0);
    const sent = await send({ ...request, rules: LOOSE }, options);
    expect(sent).toMatchObject({ outcome: 'delivered', status: 200 });
    expect(r.received[0]?.headers.host).toBe(`hook.example:${port}`);
  });
});
