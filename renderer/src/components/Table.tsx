import type { ReactNode } from 'react';

/**
 * The table building block of every list screen: the scrolling wrapper, the header row (`columns`,
 * plus an unlabelled last column for row buttons when `actions` is set, named for screen readers),
 * and the rows as children. `inner` is a table inside a section card; `footer` goes under the table.
 */
export function Table({
  className,
  columns,
  actions = false,
  inner = false,
  footer,
  children,
}: {
  /** The table's own class, such as `leases-table` (styled in its feature's stylesheet). */
  className: string;
  columns: string[];
  actions?: boolean;
  inner?: boolean;
  footer?: ReactNode;
  children: ReactNode;
}) {
  return (
    <div className={`table-wrap${inner ? ' inner' : ''}`}>
      <table className={`table ${className}`}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
            {actions && (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
      {footer}
    </div>
  );
}
