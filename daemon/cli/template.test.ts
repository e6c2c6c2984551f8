import { describe, expect, it } from 'vitest';
import { fillTemplate, templateReferences } from './template';

describe('inject templates', () => {
  it('finds {{ bella:KEY }} references once each, with their lines, and fills them', () => {
    const tpl =
      'db: {{ bella:DATABASE_URL }}\nhelm: {{ .Values.x }}\nagain: {{bella:DATABASE_URL}} {{  bella:API_KEY  }}\n';
    expect(templateReferences(tpl)).toEqual([
      { key: 'DATABASE_URL', line: 1 },
      { key: 'API_KEY', line: 3 },
    ]);
    expect(fillTemplate(tpl, { DATABASE_URL: 'pg://x', API_KEY: '$k' })).toBe(
      'db: pg://x\nhelm: {{ .Values.x }}\nagain: pg://x $k\n',
    );
  });

  it('names a malformed reference and its line', () => {
    expect(() => templateReferences('a\n{{ bella:my-key }}')).toThrow(
      /line 2: \{\{ bella:my-key \}\} is not a valid reference/,
    );
  });
});
