// AppArmor in the API as Kubernetes 1.32 has it: the appArmorProfile fields (pod and container level, pod templates),
// the deprecated container.apparmor.security.beta.kubernetes.io/<c> annotations, their agreement with the fields on
// create, their immutability on update, and the create-time copy between the two.
import { describe, expect, it } from 'vitest';
import { formatFieldError, parseDeployment, ReplicationController, validateReplicationController } from '../../../../control/api/index.js';
import { applyAppArmorVersionSkew, type AppArmorPod } from '../../../../control/api/apparmor.js';
import { validatePodUpdate } from '../../../../control/api/pod-update-validation.js';
import { validatePodCreateOnly } from '../../../../control/api/pod-validation.js';
import { strategyFor } from '../../../../control/apiserver/registry/index.js';
import { def } from '../apiserver/registry/fixture.js';
import { deployment, lines } from './apps/helpers.js';
import { errorsOf, mustParse, podWith } from './helpers.js';

const A = 'container.apparmor.security.beta.kubernetes.io/';

describe('appArmorProfile field validation', () => {
  const podLevel = (profile: unknown) => errorsOf(podWith((p) => (p.spec.securityContext = { appArmorProfile: profile })));
  const ctrLevel = (profile: unknown) => errorsOf(podWith((p) => (p.spec.containers[0].securityContext = { appArmorProfile: profile })));

  it('accepts the three types, Localhost with a name', () => {
    expect(podLevel({ type: 'RuntimeDefault' })).toEqual([]);
    expect(podLevel({ type: 'Unconfined' })).toEqual([]);
    expect(ctrLevel({ type: 'Localhost', localhostProfile: 'k8s-deny-write' })).toEqual([]);
    expect(mustParse(podWith((p) => (p.spec.securityContext = { appArmorProfile: { type: 'Localhost', localhostProfile: 'x' } }))).spec.securityContext.appArmorProfile).toEqual({
      type: 'Localhost',
      localhostProfile: 'x',
    });
  });

  it('requires the type and names the supported ones', () => {
    expect(podLevel({})).toEqual(['spec.securityContext.appArmorProfile.type: Required value: type is required when appArmorProfile is set']);
    expect(ctrLevel({ type: 'Enforce' })).toEqual([
      'spec.containers[0].securityContext.appArmorProfile.type: Unsupported value: "Enforce": supported values: "Localhost", "RuntimeDefault", "Unconfined"',
    ]);
  });

  it('requires localhostProfile for Localhost, unpadded, at most 4095 bytes, and forbids it otherwise', () => {
    const p = 'spec.containers[0].securityContext.appArmorProfile.localhostProfile';
    expect(ctrLevel({ type: 'Localhost' })).toEqual([`${p}: Required value: must be set when AppArmor type is Localhost`]);
    expect(ctrLevel({ type: 'Localhost', localhostProfile: '' })).toEqual([`${p}: Required value: must be set when AppArmor type is Localhost`]);
    expect(ctrLevel({ type: 'Localhost', localhostProfile: ' x ' })).toEqual([`${p}: Invalid value: " x ": must not be padded with whitespace`]);
    expect(ctrLevel({ type: 'Localhost', localhostProfile: 'a'.repeat(4095) })).toEqual([]);
    expect(ctrLevel({ type: 'Localhost', localhostProfile: 'a'.repeat(4096) })).toEqual([`${p}: Too long: may not be more than 4095 bytes`]);
    expect(ctrLevel({ type: 'RuntimeDefault', localhostProfile: 'x' })).toEqual([`${p}: Invalid value: "x": can only be set when AppArmor type is Localhost`]);
    expect(podLevel({ type: 'Unconfined', localhostProfile: '' })).toEqual([
      'spec.securityContext.appArmorProfile.localhostProfile: Invalid value: "": can only be set when AppArmor type is Localhost',
    ]);
  });

  it('validates init containers the same way', () => {
    const errs = errorsOf(
      podWith((p) => (p.spec.initContainers = [{ name: 'init', image: 'busybox', securityContext: { appArmorProfile: { type: 'Localhost' } } }])),
    );
    expect(errs).toEqual(['spec.initContainers[0].securityContext.appArmorProfile.localhostProfile: Required value: must be set when AppArmor type is Localhost']);
  });

  it('refuses unknown members under Strict', () => {
    expect(errorsOf(podWith((p) => (p.spec.securityContext = { appArmorProfile: { type: 'Unconfined', profile: 'x' } })), { strict: true })).toEqual([
      'spec.securityContext.appArmorProfile.profile: Invalid value: unknown field "spec.securityContext.appArmorProfile.profile"',
    ]);
  });

  it('validates pod templates (Deployment, ReplicationController) at their own paths', () => {
    const d = deployment((x) => (x.spec.template.spec.containers[0].securityContext = { appArmorProfile: { type: 'Localhost' } }));
    expect(lines(parseDeployment(d))).toEqual([
      'spec.template.spec.containers[0].securityContext.appArmorProfile.localhostProfile: Required value: must be set when AppArmor type is Localhost',
    ]);
    const rc = {
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'rc', namespace: 'default' },
      spec: {
        selector: { app: 'web' },
        template: { metadata: { labels: { app: 'web' } }, spec: { securityContext: { appArmorProfile: { type: '' } }, containers: [{ name: 'web', image: 'nginx' }] } },
      },
    };
    expect(validateReplicationController(ReplicationController.parse(rc)).map(formatFieldError)).toEqual([
      'spec.template.spec.securityContext.appArmorProfile.type: Required value: type is required when appArmorProfile is set',
    ]);
  });
});

describe('AppArmor annotations', () => {
  const annotated = (annotations: Record<string, string>) => podWith((p) => (p.metadata.annotations = annotations));

  it('accepts runtime/default, unconfined, localhost/<name> and an empty value for a container of the pod', () => {
    for (const v of ['runtime/default', 'unconfined', 'localhost/foo', '']) expect(errorsOf(annotated({ [`${A}web`]: v }))).toEqual([]);
  });

  it('refuses another value, and a container the pod does not have', () => {
    expect(errorsOf(annotated({ [`${A}web`]: 'docker-default' }))).toEqual([
      `metadata.annotations[${A}web]: Invalid value: "docker-default": invalid AppArmor profile name: "docker-default"`,
    ]);
    expect(errorsOf(annotated({ [`${A}nope`]: 'runtime/default' }))).toEqual([`metadata.annotations[${A}nope]: Invalid value: "nope": container not found`]);
  });

  it('checks template annotations too', () => {
    const d = deployment((x) => (x.spec.template.metadata.annotations = { [`${A}other`]: 'bogus' }));
    expect(lines(parseDeployment(d))).toEqual([
      `spec.template.annotations[${A}other]: Invalid value: "other": container not found`,
      `spec.template.annotations[${A}other]: Invalid value: "bogus": invalid AppArmor profile name: "bogus"`,
    ]);
  });

  it('must agree with the fields on create (the container’s own profile, else the pod’s)', () => {
    const check = (annotations: Record<string, string>, spec: (p: any) => void) => {
      const pod = mustParse(podWith((p) => ((p.metadata.annotations = annotations), spec(p))));
      return validatePodCreateOnly(pod.spec, pod.metadata.annotations).map(formatFieldError);
    };
    const P = 'spec.containers[0].securityContext.appArmorProfile';
    expect(check({ [`${A}web`]: 'runtime/default' }, (p) => (p.spec.securityContext = { appArmorProfile: { type: 'RuntimeDefault' } }))).toEqual([]);
    expect(check({ [`${A}web`]: 'unconfined' }, (p) => (p.spec.securityContext = { appArmorProfile: { type: 'RuntimeDefault' } }))).toEqual([
      `${P}.type: Forbidden: apparmor type in annotation and field must match`,
    ]);
    expect(
      check({ [`${A}web`]: 'localhost/a' }, (p) => (p.spec.containers[0].securityContext = { appArmorProfile: { type: 'Localhost', localhostProfile: 'b' } })),
    ).toEqual([`${P}.localhostProfile: Forbidden: apparmor profile in annotation and field must match`]);
    expect(check({ [`${A}web`]: 'runtime/default' }, (p) => (p.spec.containers[0].securityContext = { appArmorProfile: { type: 'Localhost', localhostProfile: 'b' } }))).toEqual([
      `${P}.type: Forbidden: apparmor type in annotation and field must match`,
    ]);
    // Windows pods are not checked.
    expect(check({ [`${A}web`]: 'unconfined' }, (p) => ((p.spec.os = { name: 'windows' }), (p.spec.securityContext = { appArmorProfile: { type: 'RuntimeDefault' } })))).toEqual(
      [],
    );
  });

  it('checks template annotations against the template fields', () => {
    const d = deployment((x) => {
      x.spec.template.metadata.annotations = { [`${A}web`]: 'unconfined' };
      x.spec.template.spec.securityContext = { appArmorProfile: { type: 'RuntimeDefault' } };
    });
    expect(lines(parseDeployment(d))).toEqual([`spec.template.spec.containers[0].securityContext.appArmorProfile.type: Forbidden: apparmor type in annotation and field must match`]);
  });

  it('may not be added, changed or removed by an update', () => {
    const base = (annotations?: Record<string, string>) =>
      mustParse(podWith((p) => ((p.metadata.namespace = 'default'), annotations ? (p.metadata.annotations = annotations) : undefined)));
    const old = base({ [`${A}web`]: 'runtime/default' });
    expect(validatePodUpdate(base({ [`${A}web`]: 'runtime/default', other: 'x' }), old).map(formatFieldError)).toEqual([]);
    expect(validatePodUpdate(base({ [`${A}web`]: 'unconfined' }), old).map(formatFieldError)).toEqual([
      `metadata.annotations[${A}web]: Forbidden: may not remove or update AppArmor annotations`,
    ]);
    expect(validatePodUpdate(base(), old).map(formatFieldError)).toEqual([`metadata.annotations[${A}web]: Forbidden: may not remove or update AppArmor annotations`]);
    expect(validatePodUpdate(old, base()).map(formatFieldError)).toEqual([`metadata.annotations[${A}web]: Forbidden: may not add AppArmor annotations`]);
  });
});

describe('applyAppArmorVersionSkew (pod create)', () => {
  const pod = (annotations: Record<string, string> | undefined, spec: Record<string, unknown>): AppArmorPod => ({
    metadata: annotations ? { annotations } : {},
    spec: spec as AppArmorPod['spec'],
  });

  it('adds each container’s annotation from its profile, else the pod’s', () => {
    const p = pod(undefined, {
      securityContext: { appArmorProfile: { type: 'RuntimeDefault' } },
      initContainers: [{ name: 'init' }],
      containers: [{ name: 'a', securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'prof' } } }, { name: 'b' }],
    });
    expect(applyAppArmorVersionSkew(p)).toEqual([]);
    expect(p.metadata.annotations).toEqual({ [`${A}init`]: 'runtime/default', [`${A}a`]: 'localhost/prof', [`${A}b`]: 'runtime/default' });
  });

  it('copies an annotation into the container’s field, with a deprecation warning, unless the pod’s profile says the same', () => {
    const p = pod(
      { [`${A}a`]: 'localhost/prof', [`${A}b`]: 'unconfined', [`${A}c`]: 'runtime/default' },
      { securityContext: { appArmorProfile: { type: 'Unconfined' } }, containers: [{ name: 'a' }, { name: 'b' }, { name: 'c', securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } }] },
    );
    const warnings = applyAppArmorVersionSkew(p);
    const ctrs = p.spec.containers!;
    expect(ctrs[0]!.securityContext?.appArmorProfile).toEqual({ type: 'Localhost', localhostProfile: 'prof' });
    // Same as the pod's: neither copied nor warned about (upstream warns only for a copy or an unusable value).
    expect(ctrs[1]!.securityContext).toBeUndefined();
    expect(warnings).toEqual([`metadata.annotations[${A}a]: deprecated since v1.30; use the "appArmorProfile" field instead`]);
  });

  it('warns without copying an annotation that makes no valid profile, and leaves Windows pods alone', () => {
    const p = pod({ [`${A}a`]: 'localhost/' }, { containers: [{ name: 'a' }] });
    expect(applyAppArmorVersionSkew(p)).toEqual([`metadata.annotations[${A}a]: deprecated since v1.30; use the "appArmorProfile" field instead`]);
    expect(p.spec.containers![0]!.securityContext).toBeUndefined();
    const w = pod(undefined, { os: { name: 'windows' }, securityContext: { appArmorProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'a' }] });
    expect(applyAppArmorVersionSkew(w)).toEqual([]);
    expect(w.metadata.annotations).toBeUndefined();
  });

  it('is what the pod strategy stores on create, both ways, with the warning', () => {
    const s = strategyFor(def('pods'));
    const body = () => ({
      metadata: { name: 'p', namespace: 'default', annotations: { [`${A}b`]: 'localhost/legacy' } },
      spec: { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'nginx' }] },
    });
    for (const prepared of [s.prepareCreate(body(), { strict: false }), s.decodeCreate!(body(), { strict: false })]) {
      expect(prepared.ok).toBe(true);
      if (!prepared.ok) continue;
      const obj = prepared.obj as any;
      expect(obj.metadata.annotations).toEqual({ [`${A}a`]: 'runtime/default', [`${A}b`]: 'localhost/legacy' });
      expect(obj.spec.containers[1].securityContext).toEqual({ appArmorProfile: { type: 'Localhost', localhostProfile: 'legacy' } });
      expect(obj.spec.containers[0].securityContext).toBeUndefined();
      expect(prepared.warnings).toEqual([`metadata.annotations[${A}b]: deprecated since v1.30; use the "appArmorProfile" field instead`]);
    }
  });

  it('refuses on create an annotation that disagrees with an explicit field', () => {
    const s = strategyFor(def('pods'));
    const prepared = s.prepareCreate(
      {
        metadata: { name: 'p', namespace: 'default', annotations: { [`${A}a`]: 'unconfined' } },
        spec: { containers: [{ name: 'a', image: 'nginx', securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } }] },
      },
      { strict: false },
    );
    expect(prepared.ok ? [] : prepared.errors.map(formatFieldError)).toEqual([
      'spec.containers[0].securityContext.appArmorProfile.type: Forbidden: apparmor type in annotation and field must match',
    ]);
  });
});
