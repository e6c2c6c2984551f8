import { useState } from 'react';
import type { Environment, Project } from '../../../../daemon/api/types';
import { Button, EmptyState, Fact } from '../../components/common';
import { PageHeader } from '../../components/Page';
import { bella } from '../../lib/bella';
import { useAppData } from '../../lib/data';
import { plainDuration } from '../../lib/format';
import { plural } from '../../../../daemon/base/common/plural';
import { NewEnvironmentDialog } from './CreateDialogs';
import { TypeToConfirmDialog } from '../../components/TypeToConfirmDialog';
import './projects.css';

/** A project: its environments as cards, and deleting it. */
export function ProjectView({
  project,
  environments,
  onOpen,
  onDeleted,
}: {
  project: Project;
  environments: Environment[];
  onOpen: (env: string) => void;
  onDeleted: () => void;
}) {
  const { reload } = useAppData();
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState(false);
  return (
    <div className="page">
      <PageHeader
        eyebrow="Project"
        title={project.name}
        meta={
          <>
            <span className="mono">{project.slug}</span>
            <span aria-hidden>·</span>
            <span>{plural(environments.length, 'environment')}</span>
          </>
        }
        actions={
          <>
            <Button className="button ghost" icon="trash" label="Delete project" onClick={() => setDeleting(true)} />
            <Button className="button primary" icon="plus" label="New environment" onClick={() => setCreating(true)} />
          </>
        }
      />
      {environments.length === 0 ? (
        <EmptyState
          icon="layers"
          title="No environments yet"
          action={
            <Button
              className="button primary"
              icon="plus"
              label="Add an environment"
              onClick={() => setCreating(true)}
            />
          }
        >
          Add one for each place {project.name} runs — production, staging, development. Each keeps its own secrets,
          leases and policy.
        </EmptyState>
      ) : (
        <ul className="cards">
          {environments.map((e) => (
            <li key={e.slug}>
              <button type="button" className="card" onClick={() => onOpen(e.slug)}>
                <div className="card-title">
                  <span className="env-dot" aria-hidden />
                  <strong>{e.name}</strong>
                  <span className="mono muted">{e.slug}</span>
                </div>
                <dl className="card-stats">
                  <Fact term="Secrets">{e.secretCount}</Fact>
                  <Fact term="Active leases">{e.activeLeases}</Fact>
                  <Fact term="Policy">{e.policy ? plainDuration(e.policy.ttlSeconds) : 'None'}</Fact>
                </dl>
              </button>
            </li>
          ))}
        </ul>
      )}
      {environments.length > 0 && (
        <p className="muted hint-below">Open an environment to manage its secrets, leases, policy and audit trail.</p>
      )}
      {creating && (
        <NewEnvironmentDialog
          project={project.slug}
          onClose={() => setCreating(false)}
          onCreated={(slug) => {
            setCreating(false);
            onOpen(slug);
          }}
        />
      )}
      {deleting && (
        <TypeToConfirmDialog
          title={`Delete ${project.name}?`}
          description="Its environments and secrets are deleted and every active lease is revoked. This cannot be undone."
          word={project.slug}
          confirmLabel="Delete project"
          onClose={() => setDeleting(false)}
          action={async () => {
            await bella().deleteProject({ project: project.slug, force: true });
            setDeleting(false);
            reload();
            onDeleted();
          }}
        />
      )}
    </div>
  );
}
