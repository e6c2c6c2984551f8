export { resolveHome, resolveSocket } from '../base/node/paths';
