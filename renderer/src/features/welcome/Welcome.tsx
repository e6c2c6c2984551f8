import { useState } from 'react';
import { Icon } from '../../components/Icon';
import { useAppData } from '../../lib/data';
import { NewProjectDialog } from '../projects/CreateDialogs';
import './welcome.css';

/** The first screen: what bella does and the one thing to do next. */
export function Welcome({ onCreated }: { onCreated: (slug: string) => void }) {
  const { projects } = useAppData();
  const [open, setOpen] = useState(false);
  const hasProjects = projects.length > 0;
  return (
    <div className="welcome">
      <div className="logo-mark welcome-mark" aria-hidden>
        <Icon name="key" size={30} />
      </div>
      <h1>{hasProjects ? 'Pick an environment' : 'Welcome to bella'}</h1>
      <p className="lead">
        {hasProjects
          ? 'Choose a project or environment on the left to see its secrets, leases and audit trail.'
          : 'Keep your secrets in one place and hand out short-lived, scoped tokens instead of the keys themselves. Every token expires on its own and every read is audited.'}
      </p>
      {!hasProjects && (
        <>
          <ol className="steps">
            <li>
              <span className="step-n">1</span>
              <div>
                <strong>Create a project</strong>
                <span>one per application or service</span>
              </div>
            </li>
            <li>
              <span className="step-n">2</span>
              <div>
                <strong>Add an environment and its secrets</strong>
                <span>production, staging — or import a .env file</span>
              </div>
            </li>
            <li>
              <span className="step-n">3</span>
              <div>
                <strong>Issue a lease</strong>
                <span>a bax- token that reads only the keys it names, for as long as you say</span>
              </div>
            </li>
          </ol>
          <button type="button" className="button primary large" onClick={() => setOpen(true)}>
            <Icon name="plus" />
            <span>Create your first project</span>
          </button>
        </>
      )}
      {open && (
        <NewProjectDialog
          onClose={() => setOpen(false)}
          onCreated={(slug) => {
            setOpen(false);
            onCreated(slug);
          }}
        />
      )}
    </div>
  );
}
