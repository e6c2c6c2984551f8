import { displayWidth, escapeControls, truncateToWidth } from '../base/common/terminal-text';

/** One column of a table. */
export interface Column {
  header: string;
  /** Never cut (ids people copy, short statuses). */
  keep?: boolean;
  /** Narrowest the column is cut to (default: its header, at least 8). */
  min?: number;
  /** Left out when the table cannot fit otherwise: lower numbers go first (`--wide` keeps all). */
  drop?: number;
  /** SGR colour for a cell on a terminal, e.g. `'32'` for green; by the cell's text. */
  colour?: (cell: string) => string | undefined;
}

/** How a table is drawn. */
export interface TableOptions {
  /** Columns available; Infinity draws every cell whole. */
  width: number;
  colour: boolean;
}

const GAP = 2;

/**
 * Widths that fit `width`: the widest cuttable column gives up a column at a time until the
 * table fits or every cuttable column is at its minimum.
 */
function fitWidths(columns: readonly Column[], natural: readonly number[], width: number): number[] {
  const widths = [...natural];
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1);
  const floor = columns.map((c, i) =>
    c.keep ? (natural[i] as number) : Math.min(natural[i] as number, c.min ?? Math.max(8, displayWidth(c.header))),
  );
  while (total() > width) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) {
      if (
        (widths[i] as number) > (floor[i] as number) &&
        (widest < 0 || (widths[i] as number) > (widths[widest] as number))
      )
        widest = i;
    }
    if (widest < 0) break;
    widths[widest] = (widths[widest] as number) - 1;
  }
  return widths;
}

/**
 * Rows as a plain-text table with a header line. Every cell is shown terminal-safe (control
 * characters escaped), measured in terminal columns (wide characters count 2), and cut with `…`
 * to fit `width`; colour is applied after layout so it never changes widths.
 */
export function renderTable(
  allColumns: readonly Column[],
  allRows: ReadonlyArray<readonly string[]>,
  options: TableOptions,
): string {
  const allCells = allRows.map((r) => allColumns.map((_, i) => escapeControls(r[i] ?? '')));
  const allNatural = allColumns.map((c, i) =>
    Math.max(displayWidth(c.header), ...allCells.map((r) => displayWidth(r[i] as string))),
  );
  // Drop columns (lowest `drop` first) while even the narrowest layout cannot fit.
  let shown = allColumns.map((_, i) => i);
  if (Number.isFinite(options.width)) {
    const droppable = shown
      .filter((i) => allColumns[i]?.drop !== undefined)
      .sort((a, b) => (allColumns[a]?.drop ?? 0) - (allColumns[b]?.drop ?? 0));
    for (const victim of droppable) {
      const cols = shown.map((i) => allColumns[i] as Column);
      const floor = fitWidths(
        cols,
        shown.map((i) => allNatural[i] as number),
        0,
      );
      if (floor.reduce((a, b) => a + b, 0) + GAP * (floor.length - 1) <= options.width) break;
      shown = shown.filter((i) => i !== victim);
    }
  }
  const columns = shown.map((i) => allColumns[i] as Column);
  const cells = allCells.map((r) => shown.map((i) => r[i] as string));
  const natural = shown.map((i) => allNatural[i] as number);
  const widths = Number.isFinite(options.width) ? fitWidths(columns, natural, options.width) : natural;
  const paint = (text: string, sgr: string | undefined) =>
    options.colour && sgr ? `\x1b[${sgr}m${text}\x1b[0m` : text;
  const line = (row: readonly string[], header: boolean) =>
    row
      .map((cell, i) => {
        const w = widths[i] as number;
        const text = truncateToWidth(cell, w);
        const last = i === row.length - 1;
        const sgr = header ? '1' : columns[i]?.colour?.(cell);
        return paint(text, sgr) + (last ? '' : ' '.repeat(w - displayWidth(text)));
      })
      .join(' '.repeat(GAP))
      .trimEnd();
  return [
    line(
      columns.map((c) => c.header),
      true,
    ),
    ...cells.map((r) => line(r, false)),
  ].join('\n');
}
