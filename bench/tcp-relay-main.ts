/**
 * The TCP relay as a process of its own, like the proxy, so that it runs with Node's default
 * flags, shares no event loop with the bench and its CPU time can be read:
 * `node --import tsx bench/tcp-relay-main.ts <host> <port>` prints the port it listens on.
 */
import { startRelay } from './tcp-relay.js';

const [host, port] = process.argv.slice(2);
const relay = await startRelay(host, Number(port));
console.log(relay.port);
