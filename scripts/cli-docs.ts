// Writes docs/cli.md from the command definitions (daemon/cli/definitions.ts): `npm run docs:cli`.
// test/cli/docs.test.ts fails when the file is stale.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import prettier from 'prettier';
import { ROOT } from '../daemon/cli/definitions';
import { renderMarkdown } from '../daemon/cli/help';

/** Where the reference lives. */
export const CLI_DOCS = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'cli.md');

/** The reference as it should be on disk: generated, then formatted as the repository formats Markdown. */
export async function cliReference(): Promise<string> {
  const options = (await prettier.resolveConfig(CLI_DOCS)) ?? {};
  return prettier.format(renderMarkdown(ROOT), { ...options, parser: 'markdown' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  fs.writeFileSync(CLI_DOCS, await cliReference());
  process.stdout.write(`wrote ${path.relative(process.cwd(), CLI_DOCS)}\n`);
}
