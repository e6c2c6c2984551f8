import { describe, expect, it } from 'vitest';
import { ciReason, failedRule, globMatches } from './claims';

describe('globMatches', () => {
  it('matches literally, with * for any run of characters, slashes included', () => {
    expect(globMatches('org/app', 'org/app')).toBe(true);
    expect(globMatches('org/app', 'org/app2')).toBe(false);
    expect(globMatches('org/*', 'org/app')).toBe(true);
    expect(globMatches('refs/heads/*', 'refs/heads/feature/x')).toBe(true);
    expect(globMatches('refs/heads/main', 'refs/heads/main\n')).toBe(false);
    expect(globMatches('org.app', 'orgXapp')).toBe(false);
    expect(globMatches('*', '')).toBe(true);
    expect(globMatches('Org/App', 'org/app')).toBe(false);
  });
  it('gives the same answers from its compiled globs on every call, regex characters literal', () => {
    for (let i = 0; i < 3; i++) {
      expect(globMatches('org/*.v[1]', 'org/app.v[1]')).toBe(true);
      expect(globMatches('org/*.v[1]', 'org/app.v1')).toBe(false);
      expect(globMatches('org/*.v[1]', 'org/appXv[1]')).toBe(false);
      expect(globMatches('*-(a|b)', 'x-(a|b)')).toBe(true);
      expect(globMatches('*-(a|b)', 'x-a')).toBe(false);
      expect(globMatches('refs/*', 'refs/heads/main')).toBe(true);
      expect(globMatches('refs/*', 'ref/heads/main')).toBe(false);
    }
  });
});

describe('failedRule', () => {
  const rules = [
    { claim: 'repository', pattern: 'org/app' },
    { claim: 'ref', pattern: 'refs/heads/main' },
  ];
  it('passes when every rule holds', () => {
    expect(failedRule(rules, { repository: 'org/app', ref: 'refs/heads/main' })).toBeNull();
  });
  it('names the first rule that fails and why', () => {
    expect(failedRule(rules, { repository: 'org/other', ref: 'refs/heads/main' })?.why).toBe(
      "claim repository 'org/other' does not match 'org/app'",
    );
    expect(failedRule(rules, { repository: 'org/app', ref: 'refs/heads/dev' })?.rule.claim).toBe('ref');
  });
  it('never lets * admit a missing, inherited or non-string claim', () => {
    const any = [{ claim: 'ref', pattern: '*' }];
    expect(failedRule(any, {})?.why).toBe('claim ref is missing');
    expect(failedRule([{ claim: 'toString', pattern: '*' }], {})?.why).toBe('claim toString is missing');
    expect(failedRule(any, { ref: ['refs/heads/main'] })?.why).toBe('claim ref is missing');
    expect(failedRule([{ claim: 'run_id', pattern: '12*' }], { run_id: 1234 })).toBeNull();
  });
});

describe('ciReason', () => {
  it('names a GitHub job by repository, run and ref', () => {
    expect(ciReason({ repository: 'org/app', run_id: '1234', ref: 'refs/heads/main', sub: 'repo:org/app' })).toBe(
      'ci: org/app run 1234 refs/heads/main',
    );
  });
  it('names a GitLab job by project path and pipeline', () => {
    expect(ciReason({ project_path: 'group/project', pipeline_id: 99, ref: 'main' })).toBe(
      'ci: group/project run 99 main',
    );
  });
  it('falls back to sub, and keeps control characters out', () => {
    expect(ciReason({ sub: 'system:serviceaccount:ci' })).toBe('ci: system:serviceaccount:ci');
    expect(ciReason({})).toBe('ci: unknown subject');
    expect(ciReason({ repository: 'org/app\u001b[31m', ref: 'x' })).toBe('ci: org/app?[31m x');
  });
});
