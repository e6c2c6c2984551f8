// Writes docs/cli.md from the command definitions (daemon/cli/definitions.ts): `npm run docs:cli`.
// test/cli/docs.test.ts fails when the file is stale.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import prettier from 'prettier';
import { renderMarkdown } from '../daemon/cli/framework/help';
import { PROGRAM } from '../daemon/cli/program';

/** Where the reference lives. */
export const CLI_DOCS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'cli.md');

/** The reference as it should be on disk: generated, then formatted as the repository formats Markdown. */
export async function cliReference(): Promise<string> {
  const options = (await prettier.resolveConfig(CLI_DOCS)) ?? {};
  const markdown = renderMarkdown(PROGRAM, {
    comment: 'Generated from daemon/cli/definitions.ts by `npm run docs:cli`; do not edit by hand.',
    notes: [
      'Errors are one line on stderr (exit 1, or 2 for a usage mistake); with `--json` also\n`{ "error": { "code", "message" } }` on stdout.',
    ],
  });
  return prettier.format(markdown, { ...options, parser: 'markdown' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  fs.writeFileSync(CLI_DOCS, await cliReference());
  process.stdout.write(`wrote ${path.relative(process.cwd(), CLI_DOCS)}\n`);
}
