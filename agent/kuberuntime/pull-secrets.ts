import type { Pod } from '../../control/api/index.js';
import type { RegistryAuth } from '../runtime/runtime.js';

/**
 * imagePullSecrets: the kubelet's credential keyring (pkg/credentialprovider) built from a pod's
 * `kubernetes.io/dockerconfigjson` and `kubernetes.io/dockercfg` Secrets, and its pull loop (try every matching
 * credential until one works; none matches: pull anonymously). Pure: the runtime call is passed in.
 */

export const SECRET_TYPE_DOCKER_CONFIG_JSON = 'kubernetes.io/dockerconfigjson';
export const SECRET_TYPE_DOCKERCFG = 'kubernetes.io/dockercfg';
export const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';
export const DOCKERCFG_KEY = '.dockercfg';

/** The event the kubelet records when some of a pod's imagePullSecrets cannot be read. */
export const FAILED_TO_RETRIEVE_PULL_SECRET_REASON = 'FailedToRetrieveImagePullSecret';

/** A Secret as the API returns it: `data` values are base64. */
export interface PullSecret {
  metadata?: { name?: string; namespace?: string };
  type?: string;
  data?: Record<string, string>;
}

/** The pod's readable pull secrets, in spec order, and the names of those that could not be read. */
export interface PodPullSecrets {
  secrets: PullSecret[];
  missing: string[];
}

/** A credential entry as docker config files hold it. */
interface ConfigEntry {
  username?: unknown;
  password?: unknown;
  email?: unknown;
  auth?: unknown;
}

/** The secret data or the docker config in it is malformed: the pull fails with this (as upstream's MakeDockerKeyring). */
export class PullSecretError extends Error {}

/** Upstream's getPullSecretsForPod: look each named secret up; unreadable ones are reported, not fatal. */
export function podPullSecrets(pod: Pod, getSecret: (namespace: string, name: string) => PullSecret | undefined): PodPullSecrets {
  const out: PodPullSecrets = { secrets: [], missing: [] };
  for (const ref of pod.spec.imagePullSecrets ?? []) {
    if (!ref.name) continue;
    const s = getSecret(pod.metadata.namespace, ref.name);
    if (s) out.secrets.push(s);
    else out.missing.push(ref.name);
  }
  return out;
}

/** The Warning event's message for unreadable pull secrets (upstream's wording). */
export function failedPullSecretsMessage(missing: string[]): string {
  return `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`;
}

/** The username and password in a config entry's `auth` field, base64("user:pass"). */
function decodeAuthField(auth: string): { username: string; password: string } {
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new PullSecretError('unable to parse auth field, must be formatted as base64(username:password)');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function entryAuth(entry: ConfigEntry): RegistryAuth {
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  let username = str(entry.username);
  let password = str(entry.password);
  const auth = str(entry.auth);
  if (auth !== '') ({ username, password } = decodeAuthField(auth));
  const email = str(entry.email);
  return { username, password, ...(email ? { email } : {}) };
}

function parseJson(bytes: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes);
  } catch (err) {
    throw new PullSecretError(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new PullSecretError(`${what}: not a JSON object`);
  return parsed as Record<string, unknown>;
}

/** The registry → credential map a pull secret holds; empty for secrets of other types or without the key. */
export function secretDockerConfig(secret: PullSecret): Map<string, RegistryAuth> {
  const out = new Map<string, RegistryAuth>();
  const b64 = (key: string): string => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');
  let entries: Record<string, unknown> | undefined;
  const name = `secret "${secret.metadata?.name ?? ''}"`;
  if (secret.type === SECRET_TYPE_DOCKER_CONFIG_JSON && b64(DOCKER_CONFIG_JSON_KEY).length > 0) {
    const auths = parseJson(b64(DOCKER_CONFIG_JSON_KEY), name).auths;
    entries = typeof auths === 'object' && auths !== null ? (auths as Record<string, unknown>) : {};
  } else if (secret.type === SECRET_TYPE_DOCKERCFG && b64(DOCKERCFG_KEY).length > 0) {
    entries = parseJson(b64(DOCKERCFG_KEY), name);
  }
  for (const [registry, entry] of Object.entries(entries ?? {})) {
    if (typeof entry === 'object' && entry !== null) out.set(registry, entryAuth(entry as ConfigEntry));
  }
  return out;
}

const DEFAULT_REGISTRY_HOST = 'index.docker.io';

/** "host[:port]/path" split into host name parts, port and path, as Go's url.Parse and net.SplitHostPort would. */
function splitLocation(location: string): { parts: string[]; port: string; path: string } {
  const slash = location.indexOf('/');
  const hostPort = slash < 0 ? location : location.slice(0, slash);
  const path = slash < 0 ? '' : location.slice(slash);
  const m = /^(.*):(\d*)$/.exec(hostPort);
  const host = m && !m[1]?.includes(':') ? (m[1] ?? '') : hostPort;
  const port = m && !m[1]?.includes(':') ? (m[2] ?? '') : '';
  return { parts: host.split('.'), port, path };
}

/** A filepath.Match-style glob on one host name part: `*`, `?`, `[...]`. */
function globPart(glob: string, target: string): boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else if (ch === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) return false; // a malformed pattern matches nothing
      let cls = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      re += `[${cls}]`;
      i = end;
    } else re += ch.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(target);
}

/** Whether a keyring key (host with optional `*` globs, port, path prefix) covers the repository. */
export function registryMatches(key: string, repo: string): boolean {
  const k = splitLocation(key);
  const t = splitLocation(repo);
  if (k.port !== t.port || k.parts.length !== t.parts.length || !t.path.startsWith(k.path)) return false;
  return k.parts.every((p, i) => globPart(p, t.parts[i] as string));
}

/** Whether the image comes from Docker Hub, judged by its name as upstream does. */
function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf('/');
  const first = slash < 0 ? image : image.slice(0, slash);
  if (first === '') return false;
  if (slash < 0) return true;
  if (first === 'docker.io' || first === DEFAULT_REGISTRY_HOST) return true;
  return !/[.:]/.test(first);
}

/**
 * The repository an image reference names, normalised as the kubelet's ParseImageName does: Docker Hub images get
 * `docker.io/` (and `library/` for official ones), tag and digest are dropped. `busybox:1.36` → `docker.io/library/busybox`.
 */
export function imageRepository(image: string): string {
  let name = image;
  const at = name.indexOf('@');
  if (at >= 0) name = name.slice(0, at);
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) name = name.slice(0, colon);
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  let domain: string;
  let path: string;
  if (slash < 0 || (!/[.:]/.test(first) && first !== 'localhost')) {
    domain = 'docker.io';
    path = name;
  } else {
    domain = first;
    path = name.slice(slash + 1);
  }
  if (domain === DEFAULT_REGISTRY_HOST) domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  return `${domain}/${path}`;
}

/**
 * Registry credentials indexed by location, as upstream's BasicDockerKeyring: keys lose an `http(s)://` scheme and a
 * leading `/v1` or `/v2` path; lookups return every credential whose key matches, most specific key first, and fall
 * back to the Docker Hub credentials (`index.docker.io` keys) for Docker Hub images.
 */
export class DockerKeyring {
  private readonly creds = new Map<string, RegistryAuth[]>();

  add(config: Map<string, RegistryAuth>): void {
    for (const [location, auth] of config) {
      const key = DockerKeyring.key(location);
      if (key === undefined) continue;
      const list = this.creds.get(key) ?? [];
      list.push(auth);
      this.creds.set(key, list);
    }
  }

  private static key(location: string): string | undefined {
    let value = location;
    if (!value.startsWith('https://') && !value.startsWith('http://')) value = `https://${value}`;
    // Host as written (Go's url.Parse keeps case and port), then the path up to a query or fragment.
    const rest = value.slice(value.indexOf('://') + 3);
    const hostEnd = rest.search(/[/?#]/);
    const host = hostEnd < 0 ? rest : rest.slice(0, hostEnd);
    if (host.includes(' ')) return undefined;
    let path = hostEnd < 0 || rest[hostEnd] !== '/' ? '' : rest.slice(hostEnd).replace(/[?#].*$/, '');
    try {
      path = decodeURIComponent(path);
    } catch {
      return undefined;
    }
    if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
    return path.length > 0 && path !== '/' ? host + path : host;
  }

  /** The credentials to try for a repository (see imageRepository), in order; empty when none applies. */
  lookup(repo: string): RegistryAuth[] {
    const keys = [...this.creds.keys()].sort().reverse();
    const out: RegistryAuth[] = [];
    for (const k of keys) if (registryMatches(k, repo)) out.push(...(this.creds.get(k) ?? []));
    if (out.length > 0) return out;
    if (isDefaultRegistryMatch(repo)) return [...(this.creds.get(DEFAULT_REGISTRY_HOST) ?? [])];
    return [];
  }
}

/** The keyring of a pod's pull secrets; a malformed docker config throws PullSecretError. */
export function keyringFromSecrets(secrets: PullSecret[]): DockerKeyring {
  const keyring = new DockerKeyring();
  for (const s of secrets) keyring.add(secretDockerConfig(s));
  return keyring;
}

/** The registry host an image is pulled from (Docker's serveraddress), e.g. `127.0.0.1:5000` or `docker.io`. */
function registryHost(repo: string): string {
  return repo.slice(0, repo.indexOf('/'));
}

/**
 * Pulls `image` with the pod's pull secrets: anonymously when no credential matches its registry, otherwise with
 * each matching credential in turn until one succeeds; when all fail, the error names every failure (one: its own
 * message).
 */
export async function pullWithSecrets(image: string, secrets: PullSecret[], pull: (auth?: RegistryAuth) => Promise<void>): Promise<void> {
  if (secrets.length === 0) return pull();
  const repo = imageRepository(image);
  const creds = keyringFromSecrets(secrets).lookup(repo);
  if (creds.length === 0) return pull();
  const errors: string[] = [];
  for (const c of creds) {
    try {
      await pull({ ...c, serveraddress: registryHost(repo) });
      return;
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  throw new Error(errors.length === 1 ? (errors[0] as string) : `[${errors.join(', ')}]`);
}
