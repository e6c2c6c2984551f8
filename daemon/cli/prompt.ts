import { BellaError } from '../api/errors';
import type { CliIO } from './session';

/** Reads all of a stream as UTF-8 text. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks one question on the terminal (prompt on stderr) and returns the answer; `hidden` keeps the typing off screen. */
export async function ask(io: CliIO, question: string, hidden = false): Promise<string> {
  const readline = await import('node:readline');
  const { Writable } = await import('node:stream');
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!muted) io.stderr(chunk.toString());
      done();
    },
  });
  const rl = readline.createInterface({ input: io.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.question(question, (answer) => resolve(answer));
      rl.on('close', () => reject(new BellaError('invalid_argument', 'input ended before an answer was given')));
      muted = hidden;
    });
  } finally {
    if (hidden) io.stderr('\n');
    rl.close();
  }
}

/**
 * The one guard before something that cannot be undone: on a terminal it asks `question` (built
 * only then) and wants `word` typed back; with `--yes`, or when stdin is not a terminal (scripts,
 * CI), it proceeds without asking.
 */
export async function confirmOnTerminal(
  io: CliIO,
  yes: boolean | undefined,
  word: string,
  question: () => string | Promise<string>,
): Promise<void> {
  if (yes || !io.stdin.isTTY) return;
  const answer = await ask(io, `${await question()}\ntype "${word}" to confirm (--yes skips this): `);
  if (answer.trim() !== word) {
    throw new BellaError('invalid_argument', `confirmation did not match "${word}": nothing was changed`);
  }
}
