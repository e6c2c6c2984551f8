import { useEffect, useState } from 'react';
import { Icon } from '../../components/Icon';
import { bella } from '../../lib/bella';
import { useRevision } from '../../lib/events';
import './status.css';

/** How often the daemon's problems are read again when no event says something changed. */
const REFRESH_MS = 15_000;

/**
 * What needs the owner's attention now, as `bella daemon status` says it: a database login not
 * dropped yet, missing audit entries, a failing channel, the disk. Read again on every daemon
 * event and every 15 s; hidden when all is well (or when the daemon cannot be asked: the
 * daemon-not-answering note says that).
 */
export function ProblemsBanner() {
  const [problems, setProblems] = useState<string[]>([]);
  const revision = useRevision(() => true);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    let current = true;
    bella()
      .status({})
      .then((s) => current && setProblems(s.problems))
      .catch(() => current && setProblems([]));
    return () => {
      current = false;
    };
  }, [revision, tick]);

  if (problems.length === 0) return null;
  return (
    <section className="banner banner-problems" aria-label="Needs attention" role="region">
      <div className="banner-icon">
        <Icon name="alert" size={18} />
      </div>
      <div className="banner-body">
        <h2>
          {problems.length === 1 ? 'One thing needs your attention' : `${problems.length} things need your attention`}
        </h2>
        <ul>
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      </div>
    </section>
  );
}
