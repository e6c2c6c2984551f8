import { useState } from 'react';
import { Dialog, DialogActions } from '../../components/Dialog';
import { ErrorNote, Field } from '../../components/common';
import { useAction } from '../../lib/action';
import { bella } from '../../lib/bella';
import { useAppData } from '../../lib/data';

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A slug derived from a name: `My API` → `my-api`. */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
}

function NameSlugForm({
  kind,
  title,
  description,
  placeholder,
  create,
  onClose,
  onCreated,
}: {
  kind: string;
  title: string;
  description: string;
  placeholder: string;
  create: (name: string, slug: string) => Promise<unknown>;
  onClose: () => void;
  onCreated: (slug: string) => void;
}) {
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [slugTouched, setSlugTouched] = useState(false);
  const { reload } = useAppData();
  const action = useAction();
  const [tried, setTried] = useState(false);
  const effectiveSlug = slugTouched ? slug : slugify(name);
  const nameError = tried && !name.trim() ? `Give the ${kind} a name.` : null;
  const slugError =
    tried || slugTouched
      ? effectiveSlug && !SLUG.test(effectiveSlug)
        ? 'Use lowercase letters, digits and dashes, starting with a letter or digit.'
        : tried && !effectiveSlug
          ? 'A slug is needed.'
          : null
      : null;

  async function submit() {
    setTried(true);
    if (!name.trim() || !SLUG.test(effectiveSlug)) return;
    await action.run('create', async () => {
      await create(name.trim(), effectiveSlug);
      reload();
      onCreated(effectiveSlug);
    });
  }

  return (
    <Dialog
      title={title}
      description={description}
      onClose={onClose}
      onSubmit={submit}
      footer={<DialogActions onCancel={onClose} label={`Create ${kind}`} disabled={action.busy !== null} />}
    >
      <Field label="Name" htmlFor={`${kind}-name`} error={nameError}>
        <input
          id={`${kind}-name`}
          autoFocus
          value={name}
          placeholder={placeholder}
          aria-invalid={!!nameError}
          onChange={(e) => setName(e.target.value)}
        />
      </Field>
      <Field
        label="Slug"
        htmlFor={`${kind}-slug`}
        error={slugError}
        hint={`Used by the CLI: --${kind} ${effectiveSlug || '…'}`}
      >
        <input
          id={`${kind}-slug`}
          className="mono"
          value={effectiveSlug}
          aria-invalid={!!slugError}
          spellCheck={false}
          onChange={(e) => {
            setSlugTouched(true);
            setSlug(e.target.value);
          }}
        />
      </Field>
      <ErrorNote error={action.error} />
    </Dialog>
  );
}

/** Creates a project (and reloads the window's project tree). */
export function NewProjectDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (slug: string) => void }) {
  return (
    <NameSlugForm
      kind="project"
      title="New project"
      description="A project groups the environments of one application or service."
      placeholder="My API"
      create={(name, slug) => bella().createProject({ name, slug })}
      onClose={onClose}
      onCreated={onCreated}
    />
  );
}

/** Creates an environment in a project (and reloads the window's project tree). */
export function NewEnvironmentDialog({
  project,
  onClose,
  onCreated,
}: {
  project: string;
  onClose: () => void;
  onCreated: (slug: string) => void;
}) {
  return (
    <NameSlugForm
      kind="environment"
      title="New environment"
      description={`Environments such as production or staging hold their own secrets and leases in ${project}.`}
      placeholder="Production"
      create={(name, slug) => bella().createEnvironment({ project, name, slug })}
      onClose={onClose}
      onCreated={onCreated}
    />
  );
}
