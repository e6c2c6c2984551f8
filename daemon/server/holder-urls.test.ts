import { describe, expect, it } from 'vitest';
import { holderUrls } from './listener';

describe('holderUrls', () => {
  it('names the port the listener is bound to, also when it was asked for port 0', () => {
    expect(holderUrls('127.0.0.1:0', ['IP:127.0.0.1'], 43121)).toEqual(['https://127.0.0.1:43121']);
    expect(holderUrls('192.0.2.2:7443', ['IP:192.0.2.2'])).toEqual(['https://192.0.2.2:7443']);
  });

  it('for a wildcard address, lists the names other machines can reach, IPv6 in brackets', () => {
    const names = ['DNS:vm', 'DNS:localhost', 'IP:127.0.0.1', 'IP:::1', 'IP:192.0.2.2', 'IP:fd00::2'];
    expect(holderUrls('0.0.0.0:7443', names, 7443)).toEqual([
      'https://vm:7443',
      'https://192.0.2.2:7443',
      'https://[fd00::2]:7443',
    ]);
  });
});
