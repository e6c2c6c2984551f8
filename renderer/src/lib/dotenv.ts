/** What a `.env` text parses into. */
export interface DotenvResult {
  entries: Record<string, string>;
  problems: { line: number; message: string }[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function unescapeDouble(s: string): string {
  return s.replace(/\\([nrt"\\$])/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);
}

/**
 * Parses `.env` text the way dotenv does: `KEY=value`, optional `export`, `#` comments,
 * single, double or backtick quotes, multi-line double-quoted values with `\n` escapes.
 */
export function parseDotenv(text: string): DotenvResult {
  const entries: Record<string, string> = {};
  const problems: DotenvResult['problems'] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i] as string;
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      problems.push({ line: lineNo, message: 'expected KEY=value' });
      continue;
    }
    const key = m[1] as string;
    let rest = m[2] as string;
    if (!KEY.test(key)) {
      problems.push({ line: lineNo, message: `${key} is not a valid key (letters, digits, underscores)` });
      continue;
    }
    let value: string;
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      let body = rest.slice(1);
      let close = body.indexOf(quote);
      while (close < 0 && quote !== "'" && i + 1 < lines.length) {
        i++;
        body += `\n${lines[i] as string}`;
        close = body.indexOf(quote);
      }
      if (close < 0) {
        problems.push({ line: lineNo, message: `missing closing ${quote}` });
        continue;
      }
      value = body.slice(0, close);
      if (quote === '"') value = unescapeDouble(value);
    } else {
      const hash = rest.search(/\s#/);
      if (hash >= 0) rest = rest.slice(0, hash);
      value = rest.trim();
    }
    entries[key] = value;
  }
  return { entries, problems };
}
