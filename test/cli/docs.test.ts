import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../daemon/cli/definitions';
import type { CommandSpec } from '../../daemon/cli/framework/spec';
import { CLI_DOCS, cliReference } from '../../scripts/cli-docs';

function commands(spec: CommandSpec, prefix: string[] = []): string[] {
  const here = [...prefix, spec.name];
  if (spec.hidden) return [];
  return [...(spec.action ? [here.join(' ')] : []), ...(spec.subcommands ?? []).flatMap((c) => commands(c, here))];
}

describe('docs/cli.md', () => {
  it('is generated from the command definitions and current (run `npm run docs:cli` after changing them)', async () => {
    expect(fs.readFileSync(CLI_DOCS, 'utf8')).toBe(await cliReference());
  });

  it('names every command (80 now, with secrets rotate, databases add|list|remove and roles add|list|remove, secrets history|rollback|restore|trash, team invite|join|list|grant|ungrant|remove, whoami, request and requests list|approve|deny|token|review: a new one is documented by the same run)', () => {
    const text = fs.readFileSync(CLI_DOCS, 'utf8');
    const all = commands(ROOT);
    expect(all.length).toBe(80);
    for (const name of all) expect(text, name).toContain(`\`${name}\``);
  });
});
