export { daemonLockHolder, daemonPidPath, resolveHome, resolveSocket } from '../base/node/paths';
