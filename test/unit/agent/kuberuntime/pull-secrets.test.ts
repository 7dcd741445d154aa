import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { podObjectRefs } from '../../../../agent/cluster/objects.js';
import { MemoryEventRecorder } from '../../../../agent/events.js';
import {
  DockerKeyring,
  failedPullSecretsMessage,
  imageRepository,
  keyringFromSecrets,
  podPullSecrets,
  PullSecretError,
  pullWithSecrets,
  registryMatches,
  secretDockerConfig,
  type PullSecret,
} from '../../../../agent/kuberuntime/pull-secrets.js';
import type { RegistryAuth } from '../../../../agent/runtime/runtime.js';
import { silentLogger } from '../../../../lib/log.js';
import { FakeRuntime } from '../fake-runtime.js';
import { c, makePod, NOW, testSyncer } from './fixtures.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A kubernetes.io/dockerconfigjson Secret holding these `auths`. */
function configJsonSecret(name: string, auths: Record<string, unknown>): PullSecret {
  return { metadata: { name, namespace: 'default' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths })) } };
}

function dockercfgSecret(name: string, cfg: Record<string, unknown>): PullSecret {
  return { metadata: { name, namespace: 'default' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify(cfg)) } };
}

const keyring = (entries: Record<string, string>): DockerKeyring => {
  const k = new DockerKeyring();
  k.add(new Map(Object.entries(entries).map(([loc, user]) => [loc, { username: user, password: 'pw' }])));
  return k;
};
const users = (auths: RegistryAuth[]): Array<string | undefined> => auths.map((a) => a.username);

describe('imageRepository', () => {
  it('normalises image references as the kubelet does before the keyring lookup', () => {
    expect(imageRepository('busybox')).toBe('docker.io/library/busybox');
    expect(imageRepository('busybox:1.36')).toBe('docker.io/library/busybox');
    expect(imageRepository('someone/app:v2')).toBe('docker.io/someone/app');
    expect(imageRepository('index.docker.io/someone/app')).toBe('docker.io/someone/app');
    expect(imageRepository('docker.io/busybox')).toBe('docker.io/library/busybox');
    expect(imageRepository('127.0.0.1:5000/skiff-it/web:v1')).toBe('127.0.0.1:5000/skiff-it/web');
    expect(imageRepository('registry.example.com/team/app@sha256:abcd')).toBe('registry.example.com/team/app');
    expect(imageRepository('localhost/app:1')).toBe('localhost/app');
  });
});

describe('secretDockerConfig', () => {
  it('reads a dockerconfigjson secret, with username/password or base64 auth', () => {
    const s = configJsonSecret('reg', {
      'registry.example.com': { username: 'alice', password: 'secret', email: 'a@example.com' },
      'https://other.example.com/v2/': { auth: b64('bob:pa:ss') },
    });
    expect([...secretDockerConfig(s)]).toEqual([
      ['registry.example.com', { username: 'alice', password: 'secret', email: 'a@example.com' }],
      ['https://other.example.com/v2/', { username: 'bob', password: 'pa:ss' }],
    ]);
  });

  it('reads a legacy dockercfg secret (the map without "auths")', () => {
    expect([...secretDockerConfig(dockercfgSecret('old', { 'quay.io': { auth: b64('u:p') } }))]).toEqual([['quay.io', { username: 'u', password: 'p' }]]);
  });

  it('ignores secrets of other types, or whose type and key do not go together', () => {
    const opaque: PullSecret = { type: 'Opaque', data: { '.dockerconfigjson': b64('{"auths":{"a.io":{"username":"u"}}}') } };
    expect(secretDockerConfig(opaque).size).toBe(0);
    const wrongKey: PullSecret = { type: 'kubernetes.io/dockerconfigjson', data: { '.dockercfg': b64('{"a.io":{"username":"u"}}') } };
    expect(secretDockerConfig(wrongKey).size).toBe(0);
    expect(secretDockerConfig({ type: 'kubernetes.io/dockerconfigjson' }).size).toBe(0);
  });

  it('fails on malformed JSON or an auth field without a colon', () => {
    expect(() => secretDockerConfig({ metadata: { name: 'bad' }, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{nope') } })).toThrow(PullSecretError);
    expect(() => secretDockerConfig(configJsonSecret('bad', { 'a.io': { auth: b64('nocolon') } }))).toThrow(
      'unable to parse auth field, must be formatted as base64(username:password)',
    );
  });
});

describe('keyring matching', () => {
  it('matches on host and port', () => {
    const k = keyring({ '127.0.0.1:5000': 'local', 'registry.example.com': 'example' });
    expect(users(k.lookup('127.0.0.1:5000/app'))).toEqual(['local']);
    expect(users(k.lookup('127.0.0.1:5001/app'))).toEqual([]);
    expect(users(k.lookup('127.0.0.1/app'))).toEqual([]);
    expect(users(k.lookup('registry.example.com/team/app'))).toEqual(['example']);
    expect(users(k.lookup('registry.example.com:443/team/app'))).toEqual([]);
    expect(users(k.lookup('example.com/team/app'))).toEqual([]);
  });

  it('strips http(s):// and a /v1 or /v2 path from keys', () => {
    const k = keyring({ 'https://a.example.com/v1/': 'a', 'http://b.example.com': 'b', 'https://c.example.com/v2/': 'c' });
    expect(users(k.lookup('a.example.com/x'))).toEqual(['a']);
    expect(users(k.lookup('b.example.com/x'))).toEqual(['b']);
    expect(users(k.lookup('c.example.com/x'))).toEqual(['c']);
  });

  it('matches path prefixes, most specific key first, and returns every match', () => {
    const k = keyring({ 'quay.io': 'host', 'quay.io/coreos': 'org', 'quay.io/other': 'no' });
    expect(users(k.lookup('quay.io/coreos/etcd'))).toEqual(['org', 'host']);
    expect(users(k.lookup('quay.io/someone/app'))).toEqual(['host']);
  });

  it('matches *. host globs part by part', () => {
    const k = keyring({ '*.example.com': 'glob', '*.*.example.io': 'two' });
    expect(users(k.lookup('registry.example.com/app'))).toEqual(['glob']);
    expect(users(k.lookup('example.com/app'))).toEqual([]);
    expect(users(k.lookup('a.b.example.com/app'))).toEqual([]);
    expect(users(k.lookup('a.b.example.io/app'))).toEqual(['two']);
    expect(registryMatches('reg?.example.com', 'reg1.example.com/x')).toBe(true);
    expect(registryMatches('reg[0-9].example.com', 'regx.example.com/x')).toBe(false);
  });

  it('treats docker.io, index.docker.io and https://index.docker.io/v1/ keys as Docker Hub', () => {
    for (const key of ['docker.io', 'https://index.docker.io/v1/', 'index.docker.io']) {
      const k = keyring({ [key]: 'hub' });
      for (const image of ['busybox', 'someone/app:1', 'docker.io/someone/app', 'index.docker.io/library/busybox:1']) {
        expect(users(k.lookup(imageRepository(image))), `${key} for ${image}`).toEqual(['hub']);
      }
      expect(users(k.lookup(imageRepository('quay.io/someone/app')))).toEqual([]);
    }
  });

  it('merges the secrets of a pod into one keyring', () => {
    const k = keyringFromSecrets([configJsonSecret('a', { 'r.example.com': { username: 'first', password: 'x' } }), dockercfgSecret('b', { 'r.example.com': { username: 'second', password: 'y' } })]);
    expect(users(k.lookup('r.example.com/app'))).toEqual(['first', 'second']);
  });
});

describe('pullWithSecrets', () => {
  const secrets = [
    configJsonSecret('reg', { '127.0.0.1:5000': { username: 'wrong', password: 'x' } }),
    configJsonSecret('reg2', { 'http://127.0.0.1:5000/v2/': { auth: b64('right:pw') } }),
  ];

  it('pulls anonymously without secrets or without a matching credential', async () => {
    const calls: Array<RegistryAuth | undefined> = [];
    await pullWithSecrets('busybox:1.36', [], async (auth) => void calls.push(auth));
    await pullWithSecrets('quay.io/a/b:1', secrets, async (auth) => void calls.push(auth));
    expect(calls).toEqual([undefined, undefined]);
  });

  it('tries each matching credential until one works, with the registry as serveraddress', async () => {
    const calls: RegistryAuth[] = [];
    await pullWithSecrets('127.0.0.1:5000/team/app:v1', secrets, async (auth) => {
      calls.push(auth as RegistryAuth);
      if (auth?.username !== 'right') throw new Error('unauthorized: authentication required');
    });
    expect(calls).toEqual([
      { username: 'wrong', password: 'x', serveraddress: '127.0.0.1:5000' },
      { username: 'right', password: 'pw', serveraddress: '127.0.0.1:5000' },
    ]);
  });

  it('fails with every error when no credential works', async () => {
    let n = 0;
    const fail = async (): Promise<void> => {
      throw new Error(`denied ${++n}`);
    };
    await expect(pullWithSecrets('127.0.0.1:5000/app', secrets, fail)).rejects.toThrow('[denied 1, denied 2]');
    await expect(pullWithSecrets('127.0.0.1:5000/app', secrets.slice(0, 1), fail)).rejects.toThrow(/^denied 3$/);
  });

  it('fails without pulling when a secret holds a malformed docker config', async () => {
    let pulled = false;
    const bad: PullSecret = { metadata: { name: 'bad' }, type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64('[') } };
    await expect(pullWithSecrets('busybox', [bad], async () => void (pulled = true))).rejects.toThrow(PullSecretError);
    expect(pulled).toBe(false);
  });
});

describe('a pod\'s pull secrets', () => {
  it('are read in spec order from its namespace; unreadable ones are named', () => {
    const pod = makePod({ containers: [c('app')], imagePullSecrets: [{ name: 'a' }, { name: 'gone' }, { name: 'b' }, { name: 'gone2' }] }, { namespace: 'team' });
    const asked: string[] = [];
    const got = podPullSecrets(pod, (ns, name) => {
      asked.push(`${ns}/${name}`);
      return name.startsWith('gone') ? undefined : { metadata: { name } };
    });
    expect(asked).toEqual(['team/a', 'team/gone', 'team/b', 'team/gone2']);
    expect(got.secrets.map((s) => s.metadata?.name)).toEqual(['a', 'b']);
    expect(got.missing).toEqual(['gone', 'gone2']);
    expect(failedPullSecretsMessage(got.missing)).toBe('Unable to retrieve some image pull secrets (gone, gone2); attempting to pull the image may not succeed.');
  });

  it('are watched with the other objects the pod references', () => {
    const pod = makePod({ containers: [c('app')], imagePullSecrets: [{ name: 'regcred' }], volumes: [{ name: 'v', secret: { secretName: 'regcred' } }] });
    expect(podObjectRefs(pod)).toEqual([{ kind: 'secrets', name: 'regcred' }]);
  });
});

describe('PodSyncer with imagePullSecrets', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'skiff-pull-secrets-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const image = 'registry.example.com:5000/team/app:v1';
  const setup = (secrets: Record<string, PullSecret>) => {
    const runtime = new FakeRuntime(() => NOW);
    runtime.privateImages.set(image, 'alice:s3cret');
    const events = new MemoryEventRecorder('node1', silentLogger(), () => new Date(NOW));
    const syncer = testSyncer({
      runtime,
      rootDir: root,
      events,
      now: () => NOW,
      pullSecrets: (pod) => podPullSecrets(pod, (_ns, name) => secrets[name]),
    });
    return { runtime, events, syncer };
  };
  const pod = (names: string[]) => makePod({ containers: [c('app', { image })], imagePullSecrets: names.map((name) => ({ name })) });

  it('pulls with the matching secret and starts the container', async () => {
    const { runtime, events, syncer } = setup({ regcred: configJsonSecret('regcred', { 'registry.example.com:5000': { auth: b64('alice:s3cret') } }) });
    const out = await syncer.sync(pod(['regcred']));
    expect(out.waiting.get('app')).toBeUndefined();
    expect(runtime.pullAuths).toEqual([{ image, auth: { username: 'alice', password: 's3cret', serveraddress: 'registry.example.com:5000' } }]);
    expect(events.list().map((e) => e.reason)).toContain('Started');
    expect(events.list().map((e) => e.reason)).not.toContain('FailedToRetrieveImagePullSecret');
  });

  it('pulls anonymously (and fails with ErrImagePull) when the secret cannot be read, with a Warning event', async () => {
    const { runtime, events, syncer } = setup({});
    const out = await syncer.sync(pod(['regcred']));
    expect(runtime.pullAuths).toEqual([{ image }]);
    expect(out.waiting.get('app')?.reason).toBe('ErrImagePull');
    const warning = events.list().find((e) => e.reason === 'FailedToRetrieveImagePullSecret');
    expect(warning).toMatchObject({ type: 'Warning', message: 'Unable to retrieve some image pull secrets (regcred); attempting to pull the image may not succeed.' });
    expect(warning?.involvedObject.fieldPath).toBeUndefined();
  });

  it('pulls anonymously without any pull secrets source (static pods)', async () => {
    const runtime = new FakeRuntime(() => NOW);
    const events = new MemoryEventRecorder('node1', silentLogger(), () => new Date(NOW));
    const syncer = testSyncer({ runtime, rootDir: root, events, now: () => NOW });
    const out = await syncer.sync(makePod({ containers: [c('app', { image: 'busybox:1.36' })], imagePullSecrets: [{ name: 'regcred' }] }));
    expect(out.waiting.get('app')).toBeUndefined();
    expect(runtime.pullAuths).toEqual([{ image: 'busybox:1.36' }]);
    expect(events.list().map((e) => e.reason)).not.toContain('FailedToRetrieveImagePullSecret');
  });
});
