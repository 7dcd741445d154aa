import type { Informer, KubeObject, ResourceRef } from '../../client/index.js';
import { Controller, type ControllerContext, type SyncResult } from '../controller.js';
import { errorMessage, rfc3339, type Condition } from '../objects.js';
import { CsrError, KNOWN_SIGNERS, KUBELET_CLIENT_SIGNER, nodeClientProblem, parseCsr, signCsr, signerProblem } from './csr.js';

const CSRS: ResourceRef = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };
const SARS: ResourceRef = { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews' };

export interface Csr extends KubeObject {
  spec: { request: string; signerName: string; usages?: string[]; username?: string; uid?: string; groups?: string[]; expirationSeconds?: number };
  status?: { conditions?: Condition[]; certificate?: string };
}

const hasCondition = (csr: Csr, type: string): boolean => (csr.status?.conditions ?? []).some((c) => c.type === type && c.status !== 'False');
const isFinished = (csr: Csr): boolean => hasCondition(csr, 'Denied') || hasCondition(csr, 'Failed') || Boolean(csr.status?.certificate);

/**
 * upstream's csrapproving controller: approves a kubelet's request for a node client certificate when the
 * requester may ask for one, by SubjectAccessReview on certificatesigningrequests/nodeclient (a new node, through a
 * join token) or .../selfnodeclient (a node renewing its own). Everything else waits for `kubectl certificate approve`.
 */
export class CsrApprovingController extends Controller {
  private readonly csrs: Informer<Csr>;

  constructor(ctx: ControllerContext) {
    super('csrapproving', ctx);
    this.csrs = this.watch<Csr>(CSRS);
    const enqueue = (c: Csr): void => this.queue.add(c.metadata.name ?? '');
    this.csrs.addHandlers({ onAdd: enqueue, onUpdate: (_o, c) => enqueue(c) });
  }

  protected async sync(name: string): Promise<SyncResult> {
    const csr = this.csrs.get(name);
    if (!csr || csr.spec.signerName !== KUBELET_CLIENT_SIGNER || hasCondition(csr, 'Approved') || isFinished(csr)) return;
    let parsed;
    try {
      parsed = parseCsr(csr.spec.request);
    } catch (err) {
      // Left for a human (or the signer, which fails it): nothing to approve automatically.
      this.logger.debug({ csr: name, err: errorMessage(err) }, 'cannot parse CSR; not auto-approving');
      return;
    }
    if (nodeClientProblem(parsed, csr.spec.usages ?? [])) return;
    const self = csr.spec.username === parsed.commonName;
    const subresource = self ? 'selfnodeclient' : 'nodeclient';
    if (!(await this.allowed(csr, subresource))) return;
    const now = rfc3339(this.now());
    const approved: Csr = {
      ...csr,
      status: {
        ...csr.status,
        conditions: [...(csr.status?.conditions ?? []), { type: 'Approved', status: 'True', reason: 'AutoApproved', message: 'Auto approving kubelet client certificate after SubjectAccessReview.', lastUpdateTime: now, lastTransitionTime: now }],
      },
    };
    await this.client.update(CSRS, approved, 'approval');
  }

  private async allowed(csr: Csr, subresource: string): Promise<boolean> {
    const review = (await this.client.create(SARS, undefined, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      metadata: {},
      spec: {
        user: csr.spec.username,
        ...(csr.spec.uid ? { uid: csr.spec.uid } : {}),
        groups: csr.spec.groups ?? [],
        resourceAttributes: { group: 'certificates.k8s.io', resource: 'certificatesigningrequests', verb: 'create', subresource },
      },
    } as KubeObject)) as KubeObject & { status?: { allowed?: boolean } };
    return review.status?.allowed === true;
  }
}

export interface CsrSigningOptions {
  ca: { cert: string; key: string };
  /** --cluster-signing-duration (upstream default 8760h). */
  durationMs?: number;
}

/**
 * upstream's csrsigning controller: issues approved requests for the signers it serves with the cluster CA, for
 * the shorter of --cluster-signing-duration and spec.expirationSeconds; a request its signer will not honour gets
 * a Failed condition saying why.
 */
export class CsrSigningController extends Controller {
  private readonly csrs: Informer<Csr>;

  constructor(
    ctx: ControllerContext,
    private readonly opts: CsrSigningOptions,
  ) {
    super('csrsigning', ctx);
    this.csrs = this.watch<Csr>(CSRS);
    const enqueue = (c: Csr): void => this.queue.add(c.metadata.name ?? '');
    this.csrs.addHandlers({ onAdd: enqueue, onUpdate: (_o, c) => enqueue(c) });
  }

  protected async sync(name: string): Promise<SyncResult> {
    const csr = this.csrs.get(name);
    if (!csr || !hasCondition(csr, 'Approved') || isFinished(csr) || !KNOWN_SIGNERS.includes(csr.spec.signerName)) return;
    const usages = csr.spec.usages ?? [];
    let problem: string | undefined;
    let certificate: string | undefined;
    try {
      const parsed = parseCsr(csr.spec.request);
      problem = signerProblem(csr.spec.signerName, parsed, usages);
      if (!problem) {
        const max = this.opts.durationMs ?? 365 * 24 * 3600_000;
        const asked = csr.spec.expirationSeconds !== undefined ? Math.max(600, csr.spec.expirationSeconds) * 1000 : max;
        certificate = signCsr(parsed, usages, this.opts.ca, Math.min(max, asked), this.now().getTime());
      }
    } catch (err) {
      if (!(err instanceof CsrError)) throw err;
      problem = err.message;
    }
    const now = rfc3339(this.now());
    const status = certificate
      ? { ...csr.status, certificate: Buffer.from(certificate).toString('base64') }
      : { ...csr.status, conditions: [...(csr.status?.conditions ?? []), { type: 'Failed', status: 'True', reason: 'SignerValidationFailure', message: problem ?? 'invalid request', lastUpdateTime: now, lastTransitionTime: now }] };
    await this.client.update(CSRS, { ...csr, status }, 'status');
  }
}
