import { useEffect } from 'react';
import { AppDataProvider, useAppData } from './lib/data';
import { startEventStream } from './lib/events';
import { useRoute } from './lib/route';
import { Sidebar } from './features/sidebar/Sidebar';
import { ExpiringBanner } from './features/leases/ExpiringBanner';
import { ProblemsBanner } from './features/status/ProblemsBanner';
import { useDaemonStatus } from './features/status/daemon-status';
import { EnvironmentView } from './features/environment/EnvironmentView';
import { ProjectView } from './features/projects/ProjectView';
import { Welcome } from './features/welcome/Welcome';
import { ListenerView } from './features/listener/ListenerView';
import { NotificationsView } from './features/notifications/NotificationsView';
import { AuditPage } from './features/audit/AuditPage';
import { TeamView } from './features/team/TeamView';
import { RequestsView } from './features/requests/RequestsView';
import { ErrorNote, Spinner } from './components/common';

/** The bella window: sidebar of projects and environments, the selected place, and warnings on top. */
export function App() {
  useEffect(() => startEventStream(), []);
  return (
    <AppDataProvider>
      <Shell />
    </AppDataProvider>
  );
}

function Shell() {
  const [route, navigate] = useRoute();
  const data = useAppData();
  const status = useDaemonStatus();
  const project = data.projects.find((p) => p.slug === route.project);
  const environment = route.environment
    ? data.environments[route.project ?? '']?.find((e) => e.slug === route.environment)
    : undefined;

  let content;
  if (!data.loaded) {
    content = (
      <div className="center-fill">
        <Spinner />
      </div>
    );
  } else if (route.view === 'requests') {
    content = <RequestsView opened={route.request} />;
  } else if (route.view === 'team') {
    content = <TeamView />;
  } else if (route.view === 'listener') {
    content = <ListenerView />;
  } else if (route.view === 'audit') {
    content = <AuditPage />;
  } else if (route.view === 'notifications') {
    content = <NotificationsView onOpenPolicy={(p, e) => navigate({ project: p, environment: e, tab: 'policy' })} />;
  } else if (project && environment) {
    content = (
      <EnvironmentView
        key={`${project.slug}/${environment.slug}`}
        project={project}
        environment={environment}
        tab={route.tab}
        onTab={(tab) => navigate({ ...route, tab })}
      />
    );
  } else if (project) {
    content = (
      <ProjectView
        key={project.slug}
        project={project}
        environments={data.environments[project.slug] ?? []}
        onOpen={(env) => navigate({ project: project.slug, environment: env, tab: 'secrets' })}
        onDeleted={() => navigate({ tab: 'secrets' })}
      />
    );
  } else {
    content = <Welcome onCreated={(slug) => navigate({ project: slug, tab: 'secrets' })} />;
  }

  return (
    <div className="app">
      <Sidebar route={route} navigate={navigate} storage={status?.storage ?? null} />
      <main className="main" id="main">
        {data.error ? (
          <div className="main-alert">
            <ErrorNote error={data.error} />
          </div>
        ) : null}
        <ProblemsBanner problems={status?.problems ?? []} />
        <ExpiringBanner onOpen={(p, e) => navigate({ project: p, environment: e, tab: 'leases' })} />
        {content}
      </main>
    </div>
  );
}
