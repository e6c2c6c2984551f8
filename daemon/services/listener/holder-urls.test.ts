import type os from 'node:os';
import { describe, expect, it } from 'vitest';
import { BellaError } from '../../api';
import { holderUrls, parsePublicUrl, routableAddresses } from './holder-urls';

/** A machine's interfaces as `os.networkInterfaces()` gives them. */
function nic(address: string, internal = false): os.NetworkInterfaceInfo {
  const family = address.includes(':') ? 'IPv6' : 'IPv4';
  return { address, family, internal, netmask: '', mac: '00:00:00:00:00:00', cidr: null, scopeid: 0 } as never;
}
const interfaces = {
  lo: [nic('127.0.0.1', true), nic('::1', true)],
  docker0: [nic('169.254.10.2'), nic('fe80::42:acff:fe11:2')],
  eth0: [nic('fe80::1'), nic('fd00::2'), nic('192.0.2.2')],
  wlan0: [nic('10.1.2.3')],
};

describe('holderUrls', () => {
  it('names the port the listener is bound to, also when it was asked for port 0', () => {
    expect(holderUrls({ address: '127.0.0.1:0', boundPort: 43121, interfaces }).urls).toEqual([
      'https://127.0.0.1:43121',
    ]);
    expect(holderUrls({ address: '192.0.2.2:7443', interfaces })).toEqual({
      urls: ['https://192.0.2.2:7443'],
      note: null,
    });
  });

  it('for 0.0.0.0, chooses the first routable IPv4 address and says which, and what else there is', () => {
    const got = holderUrls({ address: '0.0.0.0:7443', boundPort: 7443, interfaces, hostname: 'vm' });
    expect(got.urls).toEqual(['https://192.0.2.2:7443', 'https://10.1.2.3:7443']);
    expect(got.note).toBe(
      "BELLA_SERVER is https://192.0.2.2:7443, this machine's first routable address (it also has 10.1.2.3); for a DNS name or a port forward: `bella listener enable --public-url URL`",
    );
  });

  it('for ::, adds routable IPv6 addresses (in brackets) after the IPv4 ones, never loopback or link-local', () => {
    expect(holderUrls({ address: '[::]:7443', interfaces }).urls).toEqual([
      'https://192.0.2.2:7443',
      'https://10.1.2.3:7443',
      'https://[fd00::2]:7443',
    ]);
    expect(routableAddresses(interfaces, false)).toEqual(['192.0.2.2', '10.1.2.3', 'fd00::2']);
  });

  it('with no routable address, falls back to the machine name and says to give --public-url', () => {
    const got = holderUrls({ address: '0.0.0.0:7443', interfaces: { lo: interfaces.lo }, hostname: 'VM' });
    expect(got.urls).toEqual(['https://vm:7443']);
    expect(got.note).toMatch(/no routable address.*--public-url URL/);
  });

  it('puts --public-url first, and then needs no note', () => {
    const got = holderUrls({ address: '0.0.0.0:7443', publicUrl: 'https://bella.example.com', interfaces });
    expect(got).toEqual({
      urls: ['https://bella.example.com', 'https://192.0.2.2:7443', 'https://10.1.2.3:7443'],
      note: null,
    });
  });
});

describe('parsePublicUrl', () => {
  it('keeps https://HOST[:PORT] as an origin, clears with auto, refuses anything else naming the flag', () => {
    expect(parsePublicUrl('https://Bella.Example.com:8443/')).toBe('https://bella.example.com:8443');
    expect(parsePublicUrl('https://[fd00::2]:7443')).toBe('https://[fd00::2]:7443');
    expect(parsePublicUrl('auto')).toBeUndefined();
    for (const bad of ['http://bella.example.com', 'https://u:p@h', 'https://h/path', 'https://h?q', 'bella', '']) {
      let err: unknown;
      try {
        parsePublicUrl(bad);
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(BellaError);
      expect((err as BellaError).message, bad).toMatch(/^--public-url .* is not https:\/\/HOST\[:PORT\]/);
    }
  });
});
