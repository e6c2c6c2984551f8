import { describe, expect, it, vi } from 'vitest';
import { createAppUrlCheck, createSafeOpenExternal, isTrustedSender, secureWindowOptions } from './security';

describe('createAppUrlCheck', () => {
  it('a built app: only its own index.html over file:, whatever the hash or query', () => {
    const isApp = createAppUrlCheck({ kind: 'file', file: '/opt/bella/out/renderer/index.html' });
    expect(isApp('file:///opt/bella/out/renderer/index.html')).toBe(true);
    expect(isApp('file:///opt/bella/out/renderer/index.html#/acme/prod/leases')).toBe(true);
    expect(isApp('file:///opt/bella/out/renderer/other.html')).toBe(false);
    expect(isApp('file:///tmp/index.html')).toBe(false);
    expect(isApp('file://evil-host/opt/bella/out/renderer/index.html')).toBe(false);
    expect(isApp('https://opt/bella/out/renderer/index.html')).toBe(false);
    expect(isApp('not a url')).toBe(false);
  });

  it('development: only the dev server origin', () => {
    const isApp = createAppUrlCheck({ kind: 'url', url: 'http://localhost:5173/' });
    expect(isApp('http://localhost:5173/#/x')).toBe(true);
    expect(isApp('http://localhost:5174/')).toBe(false);
    expect(isApp('http://127.0.0.1:5173/')).toBe(false);
  });
});

describe('isTrustedSender', () => {
  const isApp = (u: string) => u === 'file:///app/index.html';
  const own = new Set([7]);
  it('needs a live main frame of an own window showing the app', () => {
    const frame = { url: 'file:///app/index.html', parent: null };
    expect(isTrustedSender({ sender: { id: 7 }, senderFrame: frame }, isApp, own)).toBe(true);
    expect(isTrustedSender({ sender: { id: 8 }, senderFrame: frame }, isApp, own)).toBe(false);
    expect(isTrustedSender({ sender: { id: 7 }, senderFrame: null }, isApp, own)).toBe(false);
    expect(
      isTrustedSender({ sender: { id: 7 }, senderFrame: { url: 'file:///app/index.html', parent: frame } }, isApp, own),
    ).toBe(false);
  });
});

describe('createSafeOpenExternal', () => {
  it('opens only https links to allowed hosts, without credentials', async () => {
    const open = vi.fn(async () => {});
    const safe = createSafeOpenExternal(open, ['docs.example.org']);
    expect(await safe('https://docs.example.org/leases')).toBe(true);
    for (const url of [
      'http://docs.example.org/',
      'https://docs.example.org.evil.com/',
      'https://evil.com/?docs.example.org',
      'https://a:b@docs.example.org/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'ms-settings:',
      '',
    ]) {
      expect(await safe(url), url).toBe(false);
    }
    expect(open.mock.calls).toEqual([['https://docs.example.org/leases']]);
  });
});

describe('secureWindowOptions', () => {
  it('carries the checklist and the preload', () => {
    const o = secureWindowOptions('/p.cjs', '/i.png');
    expect(o.webPreferences).toEqual({
      preload: '/p.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      spellcheck: false,
    });
    expect(o.show).toBe(false);
    expect(o.icon).toBe('/i.png');
  });
});
