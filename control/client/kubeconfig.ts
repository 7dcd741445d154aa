import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Duplex, Readable } from 'node:stream';
import { z } from 'zod';

/** Where and how to reach an API server: what a kubeconfig context resolves to. */
export interface Connection {
  server: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  insecureSkipTLSVerify?: boolean;
  /**
   * Opens a connection to an API server in this process (its loopback transport: HTTP over in-memory streams, no
   * TLS, no TCP). When given, `server` is only a label, and ca/cert/key are not used.
   */
  connect?: () => Duplex;
  /**
   * Hands one request to an API server in this process without HTTP framing (see InProcessCall); resolves with the
   * response once its status is known. Preferred over `connect` where given.
   */
  exchange?: (call: InProcessCall) => Promise<InProcessReply>;
}

/** A request to an API server in this process: what HTTP would carry, already split into its parts. */
export interface InProcessCall {
  method: string;
  /** Path and query, as an HTTP request line has them. */
  path: string;
  headers: Record<string, string | number>;
  body?: Buffer;
}

/**
 * The response to an InProcessCall: its status and headers, then its body as the chunks the server wrote (strings or
 * Buffers, each one whole); destroying it is the client going away.
 */
export interface InProcessReply extends Readable {
  statusCode: number;
  headers: Record<string, string | string[] | number>;
}

const NamedCluster = z.object({
  name: z.string(),
  cluster: z.object({
    server: z.string(),
    'certificate-authority': z.string().optional(),
    'certificate-authority-data': z.string().optional(),
    'insecure-skip-tls-verify': z.boolean().optional(),
  }),
});
const NamedUser = z.object({
  name: z.string(),
  user: z
    .object({
      'client-certificate': z.string().optional(),
      'client-certificate-data': z.string().optional(),
      'client-key': z.string().optional(),
      'client-key-data': z.string().optional(),
      token: z.string().optional(),
    })
    .default({}),
});
const NamedContext = z.object({ name: z.string(), context: z.object({ cluster: z.string(), user: z.string(), namespace: z.string().optional() }) });

export const KubeconfigSchema = z.object({
  clusters: z.array(NamedCluster).default([]),
  users: z.array(NamedUser).default([]),
  contexts: z.array(NamedContext).default([]),
  'current-context': z.string().optional(),
});

/** Reads a kubeconfig file and resolves its current (or the named) context to a Connection. */
export async function loadKubeconfig(path: string, contextName?: string): Promise<Connection> {
  const text = await readFile(path, 'utf8');
  const parsed = KubeconfigSchema.safeParse(parseYaml(text));
  if (!parsed.success) {
    throw new Error(`${path}: not a valid kubeconfig: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const cfg = parsed.data;
  const name = contextName ?? cfg['current-context'];
  const ctx = cfg.contexts.find((c) => c.name === name);
  if (!ctx) throw new Error(`${path}: context "${name ?? ''}" not found`);
  const cluster = cfg.clusters.find((c) => c.name === ctx.context.cluster)?.cluster;
  if (!cluster) throw new Error(`${path}: cluster "${ctx.context.cluster}" not found`);
  const user = cfg.users.find((u) => u.name === ctx.context.user)?.user ?? {};
  const base = dirname(path);
  const file = async (p: string | undefined, data: string | undefined): Promise<string | undefined> => {
    if (data) return Buffer.from(data, 'base64').toString('utf8');
    if (p) return readFile(isAbsolute(p) ? p : resolve(base, p), 'utf8');
    return undefined;
  };
  const conn: Connection = { server: cluster.server };
  const ca = await file(cluster['certificate-authority'], cluster['certificate-authority-data']);
  const cert = await file(user['client-certificate'], user['client-certificate-data']);
  const key = await file(user['client-key'], user['client-key-data']);
  if (ca) conn.ca = ca;
  if (cert) conn.cert = cert;
  if (key) conn.key = key;
  if (user.token) conn.token = user.token;
  if (cluster['insecure-skip-tls-verify']) conn.insecureSkipTLSVerify = true;
  return conn;
}
