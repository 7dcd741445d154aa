import { describe, expect, it } from 'vitest';
import { isSelfSubjectReview, reviewSelfSubject } from '../../../../control/apiserver/self-subject-review.js';
import { parseRequestInfo } from '../../../../control/apiserver/http/request-info.js';

const now = new Date('2026-01-02T03:04:05.678Z');

describe('SelfSubjectReview', () => {
  it('answers with the caller in status.userInfo and a creation time, keeping the metadata sent', () => {
    const review = reviewSelfSubject({ name: 'jane', uid: 'u-1', groups: ['devs', 'system:authenticated'] }, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: { name: 'x' } }, now);
    expect(review).toEqual({
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: 'x', creationTimestamp: '2026-01-02T03:04:05Z' },
      status: { userInfo: { username: 'jane', uid: 'u-1', groups: ['devs', 'system:authenticated'] } },
    });
  });

  it('gives the user\'s extra with its keys in order, as Go encodes a map, and leaves it out when there is none', () => {
    const user = { name: 'sa', groups: ['system:authenticated'], extra: { 'authentication.kubernetes.io/pod-uid': ['u'], 'authentication.kubernetes.io/credential-id': ['JTI=j'] } };
    const userInfo = (reviewSelfSubject(user, {}, now).status as { userInfo: { extra: Record<string, string[]> } }).userInfo;
    expect(Object.entries(userInfo.extra)).toEqual([
      ['authentication.kubernetes.io/credential-id', ['JTI=j']],
      ['authentication.kubernetes.io/pod-uid', ['u']],
    ]);
    expect(reviewSelfSubject({ name: 'a', groups: [], extra: {} }, {}, now).status).toEqual({ userInfo: { username: 'a', groups: [] } });
  });

  it('leaves out a uid the user does not have', () => {
    expect(reviewSelfSubject({ name: 'admin', groups: ['system:masters'] }, {}, now).status).toEqual({ userInfo: { username: 'admin', groups: ['system:masters'] } });
  });

  it('refuses a body that is not a SelfSubjectReview with 400', () => {
    for (const body of [null, [1], 'x', { kind: 'TokenReview' }]) {
      expect(() => reviewSelfSubject({ name: 'a', groups: [] }, body, now)).toThrow(expect.objectContaining({ code: 400 }));
    }
  });

  it('is the collection POST of authentication.k8s.io/v1 selfsubjectreviews only', () => {
    const info = (path: string) => parseRequestInfo('POST', path, new URLSearchParams());
    expect(isSelfSubjectReview(info('/apis/authentication.k8s.io/v1/selfsubjectreviews'))).toBe(true);
    expect(isSelfSubjectReview(info('/apis/authentication.k8s.io/v1/selfsubjectreviews/x'))).toBe(false);
    expect(isSelfSubjectReview(info('/apis/authentication.k8s.io/v1beta1/selfsubjectreviews'))).toBe(false);
    expect(isSelfSubjectReview(info('/apis/authentication.k8s.io/v1/tokenreviews'))).toBe(false);
  });
});
