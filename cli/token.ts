import { createPublicKey, createHash, randomInt } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, loadKubeconfig, type KubeObject } from '../control/client/index.js';
import { bootstrapTokenSecret } from '../control/apiserver/bootstrap-token.js';
import { parseCommandFlags } from '../lib/command-flags.js';
import { parseDuration } from '../lib/duration.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const randomString = (n: number): string => Array.from({ length: n }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');

/** kubeadm's --discovery-token-ca-cert-hash: sha256 of the CA's DER SubjectPublicKeyInfo. */
export function caCertHash(caPem: string): string {
  return `sha256:${createHash('sha256').update(createPublicKey(caPem).export({ type: 'spki', format: 'der' })).digest('hex')}`;
}

export function tokenHelp(): string {
  return [
    'Usage: skiff token create [flags]',
    '',
    'Creates a bootstrap token for joining nodes (a Secret bootstrap-token-<id> in kube-system), as kubeadm token create.',
    '',
    'Flags:',
    '  --ttl DURATION            How long the token stays valid; 0 for ever (default 24h0m0s)',
    '  --description TEXT        A note kept with the token',
    '  --print-join-command      Print the whole `skiff join` command instead of the token alone',
    '  --kubeconfig PATH         Admin kubeconfig (default $KUBECONFIG, else ~/.kube/config)',
    '  -h, --help                Show this help',
  ].join('\n');
}

/** `skiff token create`. */
export async function runToken(argv: string[]): Promise<number> {
  const parsed = parseCommandFlags('token', tokenHelp, {
    args: argv,
    allowPositionals: true,
    options: { ttl: { type: 'string' }, description: { type: 'string' }, 'print-join-command': { type: 'boolean' }, kubeconfig: { type: 'string' } },
  });
  if ('exitCode' in parsed) return parsed.exitCode;
  const { values, positionals } = parsed;
  if (positionals[0] !== 'create' || positionals.length !== 1) {
    process.stderr.write(`skiff token: expected "create"${positionals.length ? `, got "${positionals.join(' ')}"` : ''}\nRun "skiff token --help" for usage.\n`);
    return 2;
  }
  const ttlMs = parseDuration(values.ttl ?? '24h');
  if (ttlMs === undefined) {
    process.stderr.write(`skiff token: --ttl: expected a duration such as 24h, got "${values.ttl}"\n`);
    return 2;
  }
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG?.split(':').find(Boolean) ?? join(homedir(), '.kube', 'config');
  let conn;
  try {
    conn = await loadKubeconfig(kubeconfig);
  } catch (err) {
    process.stderr.write(`skiff token: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const client = new KubeClient(conn, 'skiff-token');
  const token = `${randomString(6)}.${randomString(16)}`;
  const [id, secret] = token.split('.') as [string, string];
  try {
    await client.create({ group: '', version: 'v1', resource: 'secrets' }, 'kube-system', bootstrapTokenSecret(id, secret, { ...(ttlMs > 0 ? { expiration: new Date(Date.now() + ttlMs) } : {}), ...(values.description ? { description: values.description } : {}) }) as unknown as KubeObject);
  } catch (err) {
    process.stderr.write(`skiff token: cannot create the token: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    client.close();
  }
  if (!values['print-join-command']) {
    process.stdout.write(`${token}\n`);
    return 0;
  }
  if (!conn.ca) {
    process.stderr.write('skiff token: the kubeconfig has no certificate authority, so no CA hash can be printed\n');
    return 1;
  }
  const endpoint = new URL(conn.server).host;
  process.stdout.write(`skiff join ${endpoint} --token ${token} --discovery-token-ca-cert-hash ${caCertHash(conn.ca)}\n`);
  return 0;
}
