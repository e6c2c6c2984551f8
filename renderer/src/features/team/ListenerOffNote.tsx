import { Icon } from '../../components/Icon';

/** Invites need the TLS listener: teammates enrol over it. Says so, with the way to the listener screen. */
export function ListenerOffNote() {
  return (
    <div className="note note-warn" role="alert" data-testid="listener-off">
      <Icon name="alert" />
      <span>
        The listener is off, and teammates join over it: the invite code carries its address. Turn it on in{' '}
        <a href="#/listener">Team access</a> first.
      </span>
    </div>
  );
}
