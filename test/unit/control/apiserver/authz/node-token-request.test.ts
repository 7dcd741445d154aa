import { describe, expect, it } from 'vitest';
import { nodeTokenRequestMessage, tokenRequestForbidden } from '../../../../../control/apiserver/authz/node.js';
import { ApiError } from '../../../../../control/apiserver/http/status.js';
import type { KubeObject } from '../../../../../control/apiserver/storage/object-storage.js';

const n1 = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };
const admin = { name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
const pods: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mine', namespace: 'default', uid: 'u-mine' }, spec: { nodeName: 'n1', serviceAccountName: 'runner' } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'theirs', namespace: 'default', uid: 'u-theirs' }, spec: { nodeName: 'n2', serviceAccountName: 'runner' } },
];
const getPod = async (ns: string, name: string) => pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name);
const request = (boundObjectRef?: Record<string, string>) => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['api'], ...(boundObjectRef ? { boundObjectRef } : {}) } });

describe('NodeRestriction: TokenRequests from nodes (upstream admitServiceAccount)', () => {
  it('lets a node have a token bound to its own pod, and anyone else anything', async () => {
    expect(await nodeTokenRequestMessage(n1, 'default', request({ apiVersion: 'v1', kind: 'Pod', name: 'mine', uid: 'u-mine' }), getPod)).toBeUndefined();
    expect(await nodeTokenRequestMessage(admin, 'default', request(), getPod)).toBeUndefined();
    expect(await nodeTokenRequestMessage(undefined, 'default', request(), getPod)).toBeUndefined();
  });

  it('refuses unbound tokens, bindings without a uid or with a stale one, and pods of other nodes', async () => {
    expect(await nodeTokenRequestMessage(n1, 'default', request(), getPod)).toBe('node requested token not bound to a pod');
    expect(await nodeTokenRequestMessage(n1, 'default', request({ apiVersion: 'v1', kind: 'Secret', name: 's', uid: 'x' }), getPod)).toBe('node requested token not bound to a pod');
    expect(await nodeTokenRequestMessage(n1, 'default', request({ apiVersion: 'v1', kind: 'Pod', name: 'mine' }), getPod)).toBe('node requested token with a pod binding without a uid');
    expect(await nodeTokenRequestMessage(n1, 'default', request({ apiVersion: 'v1', kind: 'Pod', name: 'mine', uid: 'old' }), getPod)).toMatch(/^the UID in the bound object reference \(old\) does not match the UID in record/);
    expect(await nodeTokenRequestMessage(n1, 'default', request({ apiVersion: 'v1', kind: 'Pod', name: 'theirs', uid: 'u-theirs' }), getPod)).toBe('node requested token bound to a pod scheduled on a different node');
    await expect(nodeTokenRequestMessage(n1, 'default', request({ apiVersion: 'v1', kind: 'Pod', name: 'gone', uid: 'g' }), getPod)).rejects.toMatchObject({ code: 404 });
  });

  it('words the refusal as admission does', () => {
    const err = tokenRequestForbidden('runner', 'node requested token not bound to a pod');
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe(403);
    expect(err.message).toBe('serviceaccounts "runner" is forbidden: node requested token not bound to a pod');
  });
});
