import { createHash, X509Certificate } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { connect, type PeerCertificate, type DetailedPeerCertificate } from 'node:tls';
import { stringify as toYaml } from 'yaml';

export function joinHelp(): string {
  return [
    'Usage: skiff join HOST:PORT --token TOKEN --discovery-token-ca-cert-hash sha256:HASH [agent flags]',
    '',
    'Joins this machine to a cluster as a node, as kubeadm join: finds the cluster CA (pinned by its hash), then runs',
    'the agent, which obtains its own client certificate with the token (TLS bootstrap). Get the command from',
    '`skiff token create --print-join-command` on the control plane. Other flags go to `skiff agent`.',
    '',
    'Flags:',
    '  --token TOKEN                                 Bootstrap token (<6 chars>.<16 chars>)',
    '  --discovery-token-ca-cert-hash sha256:HASH    Hash of the cluster CA\'s public key, to trust nothing else',
    '  --discovery-token-unsafe-skip-ca-verification Trust whatever CA the server presents',
    '  -h, --help                                    Show this help',
  ].join('\n');
}

export class JoinError extends Error {}

const spkiHash = (cert: X509Certificate): string => `sha256:${createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('hex')}`;

/** Every certificate the server presented, leaf first. */
function presentedChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let cur: PeerCertificate | DetailedPeerCertificate | undefined = peer;
  while (cur && cur.raw && !seen.has(cur.fingerprint256)) {
    seen.add(cur.fingerprint256);
    chain.push(new X509Certificate(cur.raw));
    cur = (cur as DetailedPeerCertificate).issuerCertificate;
  }
  return chain;
}

/**
 * kubeadm's token discovery, by CA pinning: the API server presents its certificate chain; the CA whose public key
 * hashes to the pin, and that signed the server's certificate, is the cluster CA. Nothing is sent before that.
 */
export async function discoverClusterCa(endpoint: string, pin: string | undefined, timeoutMs = 10_000): Promise<string> {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(endpoint);
  if (!m) throw new JoinError(`expected HOST:PORT, got "${endpoint}"`);
  const host = (m[1] as string).replace(/^\[|\]$/g, '');
  const port = Number(m[2]);
  const peer = await new Promise<DetailedPeerCertificate>((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }), timeout: timeoutMs }, () => {
      const cert = socket.getPeerCertificate(true);
      socket.end();
      resolve(cert);
    });
    socket.on('timeout', () => socket.destroy(new Error(`timed out connecting to ${endpoint}`)));
    socket.on('error', (err) => reject(new JoinError(`cannot reach the API server at ${endpoint}: ${err.message}`)));
  });
  const chain = presentedChain(peer);
  const leaf = chain[0];
  if (!leaf) throw new JoinError(`the server at ${endpoint} presented no certificate`);
  const candidates = chain.filter((c) => c.ca);
  const ca = pin ? candidates.find((c) => spkiHash(c) === pin.toLowerCase()) : candidates.find((c) => leaf.verify(c.publicKey));
  if (!ca) {
    const seen = candidates.map(spkiHash);
    throw new JoinError(
      pin
        ? `no CA presented by ${endpoint} matches --discovery-token-ca-cert-hash ${pin}${seen.length ? ` (presented: ${seen.join(', ')})` : ' (the server presented no CA certificate)'}`
        : `the server at ${endpoint} presented no CA certificate`,
    );
  }
  if (!leaf.verify(ca.publicKey)) throw new JoinError(`the server certificate of ${endpoint} is not signed by the pinned CA`);
  return ca.toString();
}

function flagValue(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === `--${name}`) return args[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return undefined;
}

/** `skiff join`: discovery, a bootstrap kubeconfig, then the agent with TLS bootstrap. */
export async function runJoin(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(`${joinHelp()}\n`);
    return 0;
  }
  const own = new Set(['token', 'discovery-token-ca-cert-hash']);
  let endpoint: string | undefined;
  let token: string | undefined;
  let pin: string | undefined;
  let unsafe = false;
  const agentArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const eq = a.indexOf('=');
    const name = a.startsWith('--') ? a.slice(2, eq > 0 ? eq : undefined) : undefined;
    if (name === 'discovery-token-unsafe-skip-ca-verification') {
      unsafe = true;
      continue;
    }
    if (name && own.has(name)) {
      const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) {
        process.stderr.write(`skiff join: --${name} needs a value\n`);
        return 2;
      }
      if (name === 'token') token = value;
      else pin = value;
      continue;
    }
    if (!a.startsWith('-') && endpoint === undefined && agentArgs.length === 0) {
      endpoint = a;
      continue;
    }
    agentArgs.push(a);
  }
  if (!endpoint || !token) {
    process.stderr.write('skiff join: expected HOST:PORT and --token\nRun "skiff join --help" for usage.\n');
    return 2;
  }
  if (!/^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(token)) {
    process.stderr.write('skiff join: --token: expected the form [a-z0-9]{6}.[a-z0-9]{16}\n');
    return 2;
  }
  if (!pin && !unsafe) {
    process.stderr.write('skiff join: give --discovery-token-ca-cert-hash (or, knowingly, --discovery-token-unsafe-skip-ca-verification)\n');
    return 2;
  }
  if (pin && !/^sha256:[0-9a-fA-F]{64}$/.test(pin)) {
    process.stderr.write(`skiff join: --discovery-token-ca-cert-hash: expected sha256:<64 hex digits>, got "${pin}"\n`);
    return 2;
  }
  let ca: string;
  try {
    process.stdout.write(`[discovery] finding the cluster CA at ${endpoint}\n`);
    ca = await discoverClusterCa(endpoint, pin);
    process.stdout.write(`[discovery] the cluster CA ${pin ? 'matches the pinned hash' : 'was taken unverified'}\n`);
  } catch (err) {
    process.stderr.write(`skiff join: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const rootDir = flagValue(agentArgs, 'root-dir') ?? '/var/lib/skiff/agent';
  await mkdir(rootDir, { recursive: true });
  const bootstrapPath = join(rootDir, 'bootstrap-kubeconfig');
  const bootstrap = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'skiff', cluster: { server: `https://${endpoint}`, 'certificate-authority-data': Buffer.from(ca).toString('base64') } }],
    users: [{ name: 'tls-bootstrap-token-user', user: { token } }],
    contexts: [{ name: 'tls-bootstrap-token-user@skiff', context: { cluster: 'skiff', user: 'tls-bootstrap-token-user' } }],
    'current-context': 'tls-bootstrap-token-user@skiff',
  };
  await writeFile(bootstrapPath, toYaml(bootstrap), { mode: 0o600 });
  const kubeconfig = flagValue(agentArgs, 'kubeconfig') ?? join(rootDir, 'kubelet.kubeconfig');
  process.stdout.write('[kubelet-start] starting the agent with TLS bootstrap\n');
  const { runAgent } = await import('../agent/main.js');
  return runAgent([...agentArgs.filter((a, i, all) => !(a === '--kubeconfig' || a.startsWith('--kubeconfig=') || all[i - 1] === '--kubeconfig')), '--bootstrap-kubeconfig', bootstrapPath, '--kubeconfig', kubeconfig]);
}
