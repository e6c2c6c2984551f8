import { useState } from 'react';
import { GRANT_KINDS, type Grant, type GrantKind } from '../../../../daemon/api/team';
import { Field, Segmented } from '../../components/common';
import { useAppData } from '../../lib/data';

/** What each kind of grant lets her do, in words. */
export const GRANT_KIND_LABEL: Record<GrantKind, string> = { issue: 'Issue', request: 'Request' };
const GRANT_KIND_HINT: Record<GrantKind, string> = {
  issue: 'She issues leases herself, within the environment’s lease policy.',
  request: 'She sees the environment and asks for leases; an approver decides.',
};

/** A grant being picked: the project and environment from the existing lists, issue or request. */
export interface GrantDraft {
  project: string;
  environment: string;
  access: GrantKind;
}

/** The first environment, in the sidebar's order, that `taken` has no grant on (else the very first). */
function firstFree(
  projects: { slug: string }[],
  environments: Record<string, { slug: string }[]>,
  taken: readonly Grant[],
): GrantDraft {
  const all = projects.flatMap((p) =>
    (environments[p.slug] ?? []).map((e) => ({ project: p.slug, environment: e.slug })),
  );
  const free = all.find((c) => !taken.some((g) => g.project === c.project && g.environment === c.environment));
  const pick = free ?? all[0] ?? { project: projects[0]?.slug ?? '', environment: '' };
  return { ...pick, access: 'issue' };
}

/** A complete draft as a grant; null while a project or environment is missing. */
export function draftGrant(d: GrantDraft): Grant | null {
  return d.project && d.environment ? { project: d.project, environment: d.environment, access: d.access } : null;
}

/** The pickers of one grant: project, environment (of that project), issue or request. */
export function GrantFields({
  idPrefix,
  value,
  onChange,
}: {
  /** Makes the field ids unique in the page (`grant`, `invite-grant`). */
  idPrefix: string;
  value: GrantDraft;
  onChange: (next: GrantDraft) => void;
}) {
  const { projects, environments } = useAppData();
  const envs = environments[value.project] ?? [];
  return (
    <div className="grant-fields">
      <div className="grant-row">
        <Field label="Project" htmlFor={`${idPrefix}-project`}>
          <select
            id={`${idPrefix}-project`}
            value={value.project}
            onChange={(e) => {
              const project = e.target.value;
              onChange({ ...value, project, environment: environments[project]?.[0]?.slug ?? '' });
            }}
          >
            {projects.map((p) => (
              <option key={p.slug} value={p.slug}>
                {p.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Environment" htmlFor={`${idPrefix}-environment`}>
          <select
            id={`${idPrefix}-environment`}
            value={value.environment}
            disabled={envs.length === 0}
            onChange={(e) => onChange({ ...value, environment: e.target.value })}
          >
            {envs.map((env) => (
              <option key={env.slug} value={env.slug}>
                {env.name}
              </option>
            ))}
          </select>
        </Field>
        <fieldset className="field">
          <legend>Access</legend>
          <Segmented<GrantKind>
            label="Access"
            value={value.access}
            onChange={(access) => onChange({ ...value, access })}
            options={GRANT_KINDS.map((k) => ({ value: k, label: GRANT_KIND_LABEL[k] }))}
          />
        </fieldset>
      </div>
      <p className="field-hint grant-hint">{GRANT_KIND_HINT[value.access]}</p>
    </div>
  );
}

/** The grant form's starting point (an environment not in `taken`), kept while the dialog is open. */
export function useGrantDraft(taken: readonly Grant[] = []): [GrantDraft, (d: GrantDraft) => void] {
  const { projects, environments } = useAppData();
  return useState<GrantDraft>(() => firstFree(projects, environments, taken));
}
