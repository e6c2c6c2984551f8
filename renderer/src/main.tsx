import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@fontsource-variable/inter';
// The shared sheets first, so each feature's own sheet (imported by its components) comes after them.
import './styles/base.css';
import './components/controls.css';
import './components/Page.css';
import './components/Table.css';
import './components/Dialog.css';
import { App } from './App';

const root = createRoot(document.getElementById('root') as HTMLElement);
if (typeof window.bella === 'object' && window.bella !== null) {
  root.render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
} else {
  root.render(
    <div className="welcome">
      <h1>bella needs its desktop app</h1>
      <p className="lead">
        This page talks to the bella daemon only through the desktop app. Start it with `npm start`, or use the `bella`
        CLI.
      </p>
    </div>,
  );
}
