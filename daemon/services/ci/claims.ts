import type { ClaimRule } from '../../api/ci';

// Claim rules of a CI trust, and the reason a CI lease is issued with. Pure: unit-tested alone.

/** The claims of a verified JWT, as jose returns them. */
export type Claims = Record<string, unknown>;

/** Globs compiled once, by pattern: a login's claim rules are not recompiled at every login. */
const globs = new Map<string, RegExp>();
const MAX_COMPILED_GLOBS = 1024;

/**
 * Whether `value` matches `pattern`, where `*` stands for any run of characters (`/` included:
 * `org/*` matches every repository of `org`) and everything else is literal. Case-sensitive.
 */
export function globMatches(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  let compiled = globs.get(pattern);
  if (!compiled) {
    // Trusts hold at most 32 rules each; a map past this size is rebuilt rather than grown.
    if (globs.size >= MAX_COMPILED_GLOBS) globs.clear();
    const literal = pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    // No `g` or `y` flag: test() keeps no state between calls, so one RegExp serves every login.
    compiled = new RegExp(`^${literal.join('.*')}$`, 's');
    globs.set(pattern, compiled);
  }
  return compiled.test(value);
}

/**
 * The first rule the claims fail, with why, or null when every rule holds. A claim that is absent
 * or not a string (a number is compared as its decimal text) never matches, whatever the glob:
 * `*` must not admit a JWT that lacks the claim.
 */
export function failedRule(rules: ClaimRule[], claims: Claims): { rule: ClaimRule; why: string } | null {
  for (const rule of rules) {
    // Own properties only: a claim named like an Object.prototype member is never inherited.
    const raw = Object.hasOwn(claims, rule.claim) ? claims[rule.claim] : undefined;
    const value = typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : undefined;
    if (value === undefined) return { rule, why: `claim ${rule.claim} is missing` };
    if (!globMatches(rule.pattern, value))
      return { rule, why: `claim ${rule.claim} '${printable(value)}' does not match '${rule.pattern}'` };
  }
  return null;
}

/** A claim's text for a reason or a message: printable, and at most 200 characters. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 199)}…` : clean;
}

function claim(claims: Claims, name: string): string | undefined {
  const raw = Object.hasOwn(claims, name) ? claims[name] : undefined;
  if (typeof raw === 'number') return String(raw);
  return typeof raw === 'string' && raw !== '' ? printable(raw) : undefined;
}

/**
 * The reason a CI lease is issued with, naming the job: `ci: <repository or project_path> run
 * <run_id or pipeline_id> <ref>` (GitHub and GitLab claim names), parts that are absent left
 * out; `ci: <sub>` when neither the repository nor the project is named.
 */
export function ciReason(claims: Claims): string {
  const what = claim(claims, 'repository') ?? claim(claims, 'project_path');
  if (!what) return `ci: ${claim(claims, 'sub') ?? 'unknown subject'}`;
  const run = claim(claims, 'run_id') ?? claim(claims, 'pipeline_id');
  const ref = claim(claims, 'ref');
  return ['ci:', what, ...(run ? ['run', run] : []), ...(ref ? [ref] : [])].join(' ');
}
