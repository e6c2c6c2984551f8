import { Icon } from '../../components/Icon';
import './status.css';

/**
 * What needs the owner's attention now, as `bella daemon status` says it: a database login not
 * dropped yet, missing audit entries, a failing channel, the disk. Hidden when all is well (or
 * when the daemon cannot be asked: the daemon-not-answering note says that).
 */
export function ProblemsBanner({ problems }: { problems: string[] }) {
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
