import { createSocket, type Socket } from 'node:dgram';

/** A UDP socket bound to host:port; rejects, having closed it, when the bind fails. */
async function bindUdp(host: string, port: number): Promise<Socket> {
  const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', (err) => {
      sock.close();
      reject(err);
    });
    sock.bind({ address: host, port }, () => {
      sock.removeAllListeners('error');
      resolve();
    });
  });
  return sock;
}

/**
 * The UDP socket on host:port, and, when host is 0.0.0.0, a second one on 127.0.0.1 with a port of its own for the
 * node's own datagrams. REDIRECT in the nat OUTPUT chain sends those to 127.0.0.1, and the reply must leave from
 * 127.0.0.1 for conntrack to map it back to the Service IP: a socket on 0.0.0.0 replies from the address the route
 * to the client picks (the node's), which conntrack does not un-NAT, so the client drops it. Sharing the port
 * instead would need SO_REUSEADDR on both sockets, which lets the kernel hand the same ephemeral port to two such
 * listeners, and any local process bind it too. TCP needs none of this: an accepted socket replies from the address
 * it was reached at. Both are closed when either bind fails.
 */
export async function listenUdpWithLoopback(host: string, port: number): Promise<{ socket: Socket; loopback?: Socket }> {
  const socket = await bindUdp(host, port);
  if (host !== '0.0.0.0') return { socket };
  try {
    return { socket, loopback: await bindUdp('127.0.0.1', 0) };
  } catch (err) {
    socket.close();
    throw err;
  }
}
