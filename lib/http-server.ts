/**
 * The lifecycle every Skiff HTTP(S) server shares: bind, and shut down without waiting for clients. A port that
 * cannot be bound rejects instead of emitting an unhandled 'error'; closing ends idle keep-alive connections, running
 * requests and upgraded (streaming) sockets at once, so a stop never hangs on a client that keeps a connection open.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

/** Listens on address:port (0 picks a free port) and resolves with the port bound. */
export async function listenOn(server: Server, port: number, address: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/**
 * Closes the server and every connection it holds. Sockets handed over by an 'upgrade' are no longer the server's,
 * so callers that accept upgrades pass the ones still open.
 */
export async function closeServer(server: Server | undefined, upgraded: Iterable<Duplex> = []): Promise<void> {
  for (const socket of upgraded) socket.destroy();
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
