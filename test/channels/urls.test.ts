import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../helpers/channels';
import { BellaSandbox, cliPath, oneErrorLine, waitFor } from '../helpers/cli';
import { createNetnsPair, type NetnsPair } from '../helpers/netns';

// Issue 16, item 11: what a channel URL may reach, checked at `add` by the real CLI against a real
// daemon. Every refusal below is decided from the URL itself, before any DNS or connection. The
// daemons that are handed link-local, private-range or public URLs run in a network namespace of
// the test's own with no route off it (only its loopback and a link to a second namespace), so
// even a build whose checks were broken, or an event that found a channel, could send nothing
// beyond this machine. The only receiver that gets a request is on 127.0.0.1.

const sandboxes: BellaSandbox[] = [];
const receivers: Receiver[] = [];
const namespaces: NetnsPair[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.close();
  for (const s of sandboxes.splice(0)) await s.stop();
  for (const n of namespaces.splice(0)) n.cleanup();
});

/** A project app/prod with one secret, on `bella`'s daemon (started by the first command when none runs). */
async function withProject(bella: BellaSandbox): Promise<BellaSandbox> {
  await bella.ok(['projects', 'create', '--name', 'app', '--slug', 'app']);
  await bella.ok(['environments', 'create', '--project', 'app', '--name', 'prod', '--slug', 'prod']);
  await bella.ok(['secrets', 'set', 'API_KEY', 'k-1', '-p', 'app', '-e', 'prod']);
  return bella;
}

function sandbox(): BellaSandbox {
  const bella = new BellaSandbox();
  sandboxes.push(bella);
  return bella;
}

/** A sandbox whose daemon runs in a namespace with no route off it (the CLI reaches it by its socket path). */
async function isolatedSandbox(): Promise<BellaSandbox> {
  const netns = createNetnsPair();
  if (!netns.ok) throw new Error(`these refusals are only tried in a network namespace: ${netns.reason}`);
  namespaces.push(netns.pair);
  const bella = sandbox();
  const { a } = netns.pair;
  const started = await a.run(process.execPath, [cliPath, 'daemon', 'start'], { env: bella.env() });
  expect(started.code, started.stderr).toBe(0);
  const pid = Number(fs.readFileSync(path.join(bella.home, 'daemon.pid'), 'utf8').trim());
  const inside = await a.run('readlink', ['/proc/self/ns/net']);
  expect(fs.readlinkSync(`/proc/${pid}/ns/net`)).toBe(inside.stdout.trim());
  return withProject(bella);
}

const add = (bella: BellaSandbox, kind: string, url: string, ...flags: string[]) =>
  bella.run(['notifications', 'channels', 'add', kind, '--url', url, ...flags]);

describe('a channel URL cannot reach what it should not (checked at add)', () => {
  it('link-local and metadata addresses are refused whatever the flags, in every spelling', async () => {
    const bella = await isolatedSandbox();
    const metadata = await add(bella, 'webhook', 'https://169.254.169.254/latest/meta-data/');
    expect(metadata.code).toBe(1);
    expect(oneErrorLine(metadata)).toBe(
      "error: the URL's host 169.254.169.254 is a link-local or cloud metadata address: bella never sends there",
    );
    const all = ['--allow-private', '--insecure-http', '--any-host'];
    for (const url of [
      'https://169.254.169.254/latest/meta-data/',
      'http://169.254.169.254/latest/meta-data/',
      'https://2852039166/',
      'https://0xa9.0xfe.0xa9.0xfe/',
      'https://[::ffff:169.254.169.254]/',
      'https://[fe80::1]/',
      'https://[fd00:ec2::254]/',
      'https://100.100.100.200/',
      'https://0.0.0.0:8080/',
      'https://224.0.0.1/',
      'https://255.255.255.255/',
    ]) {
      const res = await add(bella, 'webhook', url, ...all);
      expect(res.code, url).toBe(1);
      expect(oneErrorLine(res), url).toMatch(/^error: the URL's host .* is an? .*: bella never sends there$/);
    }
    const slack = await add(bella, 'slack', 'https://169.254.169.254/services/T0/B0/SECRET', ...all);
    expect(oneErrorLine(slack)).toMatch(/bella never sends there$/);
    expect(slack.stderr).not.toContain('SECRET');
    expect(JSON.parse(await bella.ok(['notifications', 'channels', 'list', '--json'])).channels).toEqual([]);
  }, 60_000);

  it('loopback and private ranges need --allow-private; plain http:// needs --insecure-http', async () => {
    const bella = await isolatedSandbox();
    for (const url of [
      'https://10.0.0.5/hook',
      'https://172.16.3.4/hook',
      'https://192.168.1.10/hook',
      'https://100.64.0.1/hook',
      'https://127.0.0.1:9/hook',
      'https://[::1]:9/hook',
      'https://[fd12:3456::1]/hook',
    ]) {
      const res = await add(bella, 'webhook', url);
      expect(res.code, url).toBe(1);
      expect(oneErrorLine(res), url).toMatch(
        /^error: the URL's host .* is a loopback or private address: pass --allow-private to allow it$/,
      );
    }
    const http = await add(bella, 'webhook', 'http://10.0.0.5/hook', '--allow-private');
    expect(oneErrorLine(http)).toBe(
      'error: --url is plain http:// (readable on the network): use https://, or pass --insecure-http to allow it',
    );
    // Allowed, but not reached: adding sends nothing.
    const ok = await add(bella, 'webhook', 'https://10.0.0.5/hook', '--allow-private', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).channel).toMatchObject({ url: 'https://10.0.0.5/…', allowPrivate: true });
  }, 60_000);

  it('slack accepts only hooks.slack.com, discord only discord.com/api/webhooks, unless --any-host', async () => {
    const bella = await isolatedSandbox();
    const slack = await add(bella, 'slack', 'https://hooks.slack.com.example.org/services/T0/B0/SECRET');
    expect(oneErrorLine(slack)).toBe(
      'error: a slack channel posts only to https://hooks.slack.com/… (got hooks.slack.com.example.org): pass --any-host to allow another host',
    );
    const discord = await add(bella, 'discord', 'https://discord.com/not-webhooks/1/SECRET');
    expect(oneErrorLine(discord)).toBe(
      'error: a discord channel posts only to https://discord.com/api/webhooks/… (got discord.com): pass --any-host to allow another host',
    );
    for (const res of [slack, discord]) expect(res.stderr).not.toContain('SECRET');
  }, 60_000);

  it('a loopback receiver by name (localhost, resolved by the daemon) is refused without --allow-private, delivered with it', async () => {
    const bella = await withProject(sandbox());
    const hook = await startReceiver();
    receivers.push(hook);
    const url = hook.url.replace('127.0.0.1', 'localhost');
    const plain = await add(bella, 'slack', url);
    expect(plain.code).toBe(1);
    expect(oneErrorLine(plain)).toMatch(/pass --insecure-http to allow it$/);
    const refused = await add(bella, 'slack', url, '--insecure-http', '--any-host');
    expect(oneErrorLine(refused)).toMatch(
      /^error: the URL's host localhost resolves to (127\.0\.0\.1|::1), a loopback or private address: pass --allow-private to allow it$/,
    );
    await bella.ok(['issue', '-p', 'app', '-e', 'prod', '--scope', 'API_KEY', '--ttl', '5', '--reason', 'refused']);
    const added = await add(bella, 'slack', url, '--insecure-http', '--any-host', '--allow-private');
    expect(added.code).toBe(0);
    await bella.ok(['issue', '-p', 'app', '-e', 'prod', '--scope', 'API_KEY', '--ttl', '5', '--reason', 'allowed']);
    await waitFor(() => hook.received.length >= 1, 'the Slack message on loopback');
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]!.body).toContain('allowed');
  }, 60_000);
});
