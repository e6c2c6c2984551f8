import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { BellaError } from '../api/errors';
import { COMPLETION_SOURCES } from './commands/completion';
import type { CommandSpec } from './framework/spec';
import { PROGRAM, runCli } from './program';
import type { ApiClient, Connector } from '../client/connector';
import type { CliIO } from './session';

function harness(answer: (name: string, input: unknown) => unknown = () => ({})) {
  const out: string[] = [];
  const err: string[] = [];
  const call = vi.fn(async (name: string, input: unknown) => {
    const result = answer(name, input);
    if (result instanceof Error) throw result;
    return result;
  });
  const client = { call, ping: async () => true, close: () => {} } as unknown as ApiClient;
  const connect = vi.fn(
    () => ({ daemon: async () => ({ client, started: false }), existing: async () => client }) as unknown as Connector,
  );
  const io: CliIO = {
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    stdin: new PassThrough(),
    env: {},
    cwd: '/',
    stdoutIsTTY: false,
    stderrIsTTY: false,
    columns: undefined,
    connector: connect,
  };
  return {
    run: (...argv: string[]) => runCli(argv, io),
    stdout: () => out.join(''),
    stderr: () => err.join(''),
    call,
    connect,
  };
}

describe('usage errors', () => {
  it.each([
    [['projects', 'list', '--frobnicate']],
    [['projects', 'create', '--name', 'x']],
    [['nonsense']],
    [['issue', '--scope', 'a', '--ttl', 'abc']],
    [['issue', '--scope', 'a', '--ttl', '481']],
    [['leases', 'issue', '-p', 'a', '-e', 'b', '--scope', 'K', '--ttl', 'soon', '--reason', 'r']],
    [['pull', '-o', 'xml']],
  ])('%j exits 2 with one line and never reaches the daemon', async (...argv) => {
    const h = harness();
    expect(await h.run(...(argv[0] as string[]))).toBe(2);
    expect(h.stderr()).toMatch(/^error: .+\n$/);
    expect(h.connect).not.toHaveBeenCalled();
  });

  it('explains how to name an environment when there is no .bella', async () => {
    const h = harness();
    expect(await h.run('issue', '--scope', 'stripe')).toBe(2);
    expect(h.stderr()).toBe('error: no project given: pass -p PROJECT -e ENVIRONMENT or run `bella context init`\n');
  });

  it('gives a usage error as JSON on stdout with --json, with the same exit code', async () => {
    const h = harness();
    expect(await h.run('leases', 'issue', '--scop', 'X', '--json')).toBe(2);
    expect(JSON.parse(h.stdout())).toEqual({
      error: { code: 'invalid_argument', message: 'unknown option --scop (did you mean --scope?)' },
    });
  });
});

describe("daemon errors in the user's words", () => {
  it('names the flag, not the API field', async () => {
    const h = harness(
      () =>
        new BellaError('invalid_argument', 'ttlSeconds: at most 366 days', {
          issues: [{ path: ['ttlSeconds'], message: 'at most 366 days' }],
        }),
    );
    expect(await h.run('leases', 'renew', 'abcdefghij012345', '--ttl', '400d', '--json')).toBe(1);
    expect(h.stderr()).toBe('error: --ttl: at most 366 days\n');
    expect(JSON.parse(h.stdout())).toEqual({ error: { code: 'invalid_argument', message: '--ttl: at most 366 days' } });
  });

  it('a bug is one line too, with a hint (the stack only with BELLA_DEBUG)', async () => {
    const h = harness(() => new TypeError('x is undefined'));
    expect(await h.run('projects', 'list')).toBe(1);
    expect(h.stderr()).toBe('error: x is undefined (a bug in bella: rerun with BELLA_DEBUG=1 for details)\n');
  });
});

describe('help and version', () => {
  it("prints a command's help for `help …` and --help alike, exit 0", async () => {
    const a = harness();
    expect(await a.run('help', 'leases', 'issue')).toBe(0);
    const b = harness();
    expect(await b.run('leases', 'issue', '--help')).toBe(0);
    expect(a.stdout()).toBe(b.stdout());
    expect(a.stdout()).toContain('Usage: bella leases issue [options]');
    expect(a.stdout()).toContain('--reason <text>');
  });

  it('prints the version, as JSON with --json', async () => {
    const h = harness();
    expect(await h.run('--version', '--json')).toBe(0);
    expect(JSON.parse(h.stdout())).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/), node: process.version });
  });
});

describe('the command table', () => {
  it('names only completion sources that completion knows', () => {
    const named = (spec: CommandSpec): string[] => [
      ...(spec.options ?? []).flatMap((o) => (o.complete ? [o.complete] : [])),
      ...(spec.args ?? []).flatMap((a) => (a.complete ? [a.complete] : [])),
      ...(spec.subcommands ?? []).flatMap(named),
    ];
    const sources = named(PROGRAM.root);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(COMPLETION_SOURCES).toContain(source);
  });
});
