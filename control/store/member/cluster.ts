import { createHash } from 'node:crypto';
import type { NodeId } from '../raft/messages.js';

export interface ClusterMember {
  readonly name: string;
  readonly id: NodeId;
  readonly peerUrls: readonly string[];
}

/**
 * A member's Raft id from its name and the cluster token: the first 52 bits of a SHA-256, so every member computes
 * the same ids from the same --initial-cluster without coordination (etcd derives them from the peer URLs).
 */
export function memberIdOf(name: string, token: string): NodeId {
  const h = createHash('sha256').update(`${token}\0${name}`).digest();
  const id = Number(h.readBigUInt64BE(0) >> 12n);
  return id === 0 ? 1 : id;
}

/** The cluster id: a hash of the token and the sorted initial membership. Decimal string (a uint64 for etcd). */
export function clusterIdOf(members: readonly ClusterMember[], token: string): string {
  const spec = [...members]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => `${m.name}=${[...m.peerUrls].sort().join(',')}`)
    .join(';');
  const h = createHash('sha256').update(`${token}\0${spec}`).digest();
  return (h.readBigUInt64BE(0) >> 1n).toString();
}

/** Parses etcd's --initial-cluster: `name=url,name=url,...` (a name may repeat to list several peer URLs). */
export function parseInitialCluster(spec: string, token: string): ClusterMember[] {
  const urls = new Map<string, string[]>();
  for (const part of spec.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw new Error(`--initial-cluster: expected name=url, got "${part}"`);
    const name = part.slice(0, eq);
    const url = part.slice(eq + 1);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`--initial-cluster: "${url}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(`--initial-cluster: "${url}" must be an http:// or https:// URL`);
    }
    urls.set(name, [...(urls.get(name) ?? []), url]);
  }
  if (urls.size === 0) throw new Error('--initial-cluster: no members');
  const members = [...urls].map(([name, peerUrls]) => ({ name, id: memberIdOf(name, token), peerUrls }));
  const ids = new Set(members.map((m) => m.id));
  if (ids.size !== members.length) throw new Error('--initial-cluster: two member names hash to the same id; rename one');
  return members;
}
