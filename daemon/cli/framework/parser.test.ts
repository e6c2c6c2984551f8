import { describe, expect, it } from 'vitest';
import { PROGRAM } from '../program';
import { UsageError } from './errors';
import { closest, parseArgv, wantsJson } from './parser';

function run(...argv: string[]) {
  const parsed = parseArgv(PROGRAM, argv);
  if (parsed.kind !== 'run') throw new Error(`expected a command, got ${parsed.kind}`);
  return parsed;
}

describe('parseArgv', () => {
  it('reads the product page commands as written', () => {
    const { call } = run(
      'leases',
      'issue',
      '--project',
      'my-api',
      '--environment',
      'production',
      '--scope',
      'DATABASE_URL,REDIS_URL',
      '--ttl',
      '4h',
      '--reason',
      'Contractor onboarding - Jane Doe',
    );
    expect(call.path).toEqual(['leases', 'issue']);
    expect(call.opts).toEqual({
      project: 'my-api',
      environment: 'production',
      scope: ['DATABASE_URL', 'REDIS_URL'],
      ttl: 14400,
      reason: 'Contractor onboarding - Jane Doe',
    });
    expect(run('issue', '--scope', 'stripe,payment', '--ttl', '30', '--reason', 'Refund agent').call.opts.ttl).toBe(
      1800,
    );
  });

  it('takes options anywhere, =values, short values, globals, aliases and --', () => {
    const { call, globals } = run('envs', 'list', '--json', '-pmy-api', '--home=/h');
    expect(call.path).toEqual(['environments', 'list']);
    expect(call.opts.project).toBe('my-api');
    expect(globals).toEqual({ json: true, home: '/h' });
    expect(run('secrets', 'set', 'K', '-p', 'a', '-e', 'b', '--', '-starts-with-dash').call.args).toEqual({
      KEY: 'K',
      VALUE: '-starts-with-dash',
    });
    expect(run('leases', 'issue', '--scope', 'A', '--scope', 'B,C', '--reason', '-x').call.opts).toMatchObject({
      scope: ['A', 'B', 'C'],
      reason: '-x',
    });
  });

  it('stops at the command for run, so its own options pass through', () => {
    expect(run('run', '-p', 'a', '-e', 'b', 'node', '-e', '0', '--json').call.args.COMMAND).toEqual([
      'node',
      '-e',
      '0',
      '--json',
    ]);
    expect(run('run', '--', 'ls', '-l').call.args.COMMAND).toEqual(['ls', '-l']);
  });

  it('says what was meant for a typo', () => {
    expect(() => run('leases', 'issue', '--scop', 'X')).toThrow('unknown option --scop (did you mean --scope?)');
    expect(() => run('leases', 'isue')).toThrow(
      'unknown command isue for bella leases (did you mean bella leases issue?)',
    );
    expect(() => run('leases', 'list', '--status', 'activ')).toThrow(
      /--status must be one of active, expired, revoked, not 'activ' \(did you mean active\?\)/,
    );
  });

  it('refuses missing values, arguments and required options, and conflicting formats', () => {
    expect(() => run('secrets', 'get')).toThrow(/KEY is required: bella secrets get KEY/);
    expect(() => run('secrets', 'get', 'A', 'B')).toThrow(/unexpected argument 'B'/);
    expect(() => run('leases', 'issue', '--scope', 'A')).toThrow(/--reason <text> is required/);
    expect(() => run('pull', '--out')).toThrow(/--out <file> needs a value/);
    expect(() => run('pull', '-o', 'yaml', '--json')).toThrow('conflicting -o yaml and --json: use one of them');
    expect(() => run('leases', 'list', '--all=yes')).toThrow(/--all takes no value/);
    expect(() => run('nosuch')).toThrow(UsageError);
  });

  it('matches choices whatever their case and stores them as listed', () => {
    expect(run('audit', 'list', '--outcome', 'denied').call.opts.outcome).toBe('Denied');
  });

  it('answers help for --help, `help …` and a group alone', () => {
    expect(parseArgv(PROGRAM, ['help', 'leases', 'issue'])).toMatchObject({ kind: 'help' });
    const viaHelp = parseArgv(PROGRAM, ['help', 'leases', 'issue']);
    const viaFlag = parseArgv(PROGRAM, ['leases', 'issue', '--help']);
    expect(viaHelp.kind === 'help' && viaHelp.chain.map((c) => c.name)).toEqual(['bella', 'leases', 'issue']);
    expect(viaFlag.kind === 'help' && viaFlag.chain.map((c) => c.name)).toEqual(['bella', 'leases', 'issue']);
    expect(parseArgv(PROGRAM, ['leases']).kind).toBe('help');
    expect(parseArgv(PROGRAM, ['--version']).kind).toBe('version');
  });

  it('knows about --json before parsing', () => {
    expect(wantsJson(['nosuch', '--json'])).toBe(true);
    expect(wantsJson(['audit', 'list', '-o', 'json'])).toBe(true);
    expect(wantsJson(['run', '--', 'x', '--json'])).toBe(false);
  });

  it('suggests only close names', () => {
    expect(closest('--scop', ['--scope', '--ttl'])).toBe('--scope');
    expect(closest('--zzzzz', ['--scope', '--ttl'])).toBeUndefined();
  });
});
