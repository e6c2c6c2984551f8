import type { ReactNode } from 'react';

/** The top of a page: what kind of place it is (`eyebrow`), its title, a line about it, and its buttons. */
export function PageHeader({
  eyebrow,
  title,
  meta,
  actions,
}: {
  eyebrow: string;
  title: string;
  /** The children of the line under the title. */
  meta: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="page-header">
      <div>
        <p className="eyebrow">{eyebrow}</p>
        <h1>{title}</h1>
        <p className="page-meta">{meta}</p>
      </div>
      {actions && <div className="header-actions">{actions}</div>}
    </header>
  );
}

/**
 * A titled card of a daemon-wide screen: heading, a line of explanation, buttons or filters on the
 * right (`actionsClassName` adds a class to them), then the content.
 */
export function SectionCard({
  id,
  title,
  intro,
  actions,
  actionsClassName,
  children,
}: {
  /** Names the heading, which labels the card. */
  id: string;
  title: ReactNode;
  intro: ReactNode;
  actions?: ReactNode;
  actionsClassName?: string;
  children: ReactNode;
}) {
  return (
    <section className="section-card" aria-labelledby={id}>
      <SectionHead id={id} title={title} intro={intro} actions={actions} actionsClassName={actionsClassName} />
      {children}
    </section>
  );
}

/** The heading row of a {@link SectionCard} (a form card uses it directly). */
export function SectionHead({
  id,
  title,
  intro,
  actions,
  actionsClassName,
}: {
  id: string;
  title: ReactNode;
  intro: ReactNode;
  actions?: ReactNode;
  actionsClassName?: string;
}) {
  return (
    <div className="section-head">
      <div>
        <h2 id={id}>{title}</h2>
        <p className="muted">{intro}</p>
      </div>
      {actions && <div className={`section-actions${actionsClassName ? ` ${actionsClassName}` : ''}`}>{actions}</div>}
    </div>
  );
}
