import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A TCP port on 127.0.0.1 that nothing listens on, for a server the test starts next.
 *
 * Picked at random below the kernel's ephemeral range rather than by bind(0): the ports bind(0) hands out, and the
 * local port of every outgoing connection, come from that range, so with test files running in parallel and
 * connecting all the time, such a port could be taken between this check and the server's own bind (EADDRINUSE,
 * seen in the member transport tests). Below the range only another test's explicit pick can take it. A port is not
 * handed out twice by one process.
 */
export async function freePort(): Promise<number> {
  const range = (pickRangeOnce ??= { range: pickRange() }).range;
  for (let attempt = 0; range !== undefined && attempt < 100; attempt++) {
    const [low, high] = range;
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(port)) continue;
    if (await canListen(port)) {
      handedOut.add(port);
      return port;
    }
  }
  return ephemeralPort();
}

const handedOut = new Set<number>();
/** The range, read once per process. */
let pickRangeOnce: { range: [number, number] | undefined } | undefined;
const FIRST = 20000;

/** [FIRST, start of the ephemeral range); none (bind(0) alone) when the range starts too low to leave room. */
function pickRange(): [number, number] | undefined {
  let ephemeralLow = 32768;
  try {
    const [first] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (first !== undefined && Number.isSafeInteger(first)) ephemeralLow = first;
  } catch {
    // Not Linux: the usual range.
  }
  return ephemeralLow - FIRST >= 2000 ? [FIRST, ephemeralLow - 1] : undefined;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      if (address === null || typeof address === 'string') {
        srv.close();
        reject(new Error('freePort: no port'));
        return;
      }
      srv.close(() => resolve(address.port));
    });
  });
}
