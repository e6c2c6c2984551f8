export { daemonLockHolder, daemonPidPath, masterKeyPath, resolveHome, resolveSocket } from '../base/node/paths';
