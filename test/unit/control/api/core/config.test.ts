// ConfigMap, Secret, ServiceAccount and Endpoints: defaults, ValidateX and ValidateXUpdate with upstream's lines.
import { describe, expect, it } from 'vitest';
import {
  ConfigMap,
  Endpoints,
  Secret,
  ServiceAccount,
  validateConfigMap,
  validateConfigMapUpdate,
  validateEndpoints,
  validateSecret,
  validateSecretUpdate,
  validateServiceAccount,
} from '../../../../../control/api/index.js';
import { CONFIG_KEY, decode, errorsOf, IP, LABEL, PORT_RANGE, SUBDOMAIN, updateErrorsOf, type Json } from './helpers.js';

const meta = { name: 'cfg', namespace: 'default' };
const cm = (extra: Json): Json => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, ...extra });
const secret = (extra: Json): Json => ({ apiVersion: 'v1', kind: 'Secret', metadata: meta, ...extra });
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('ConfigMap', () => {
  const cases: Array<{ rule: string; extra: Json; want: string[] }> = [
    { rule: 'valid', extra: { data: { 'app.properties': 'a=b', KEY_1: 'x' }, binaryData: { 'logo.png': b64('PNG') } }, want: [] },
    { rule: 'empty is fine', extra: {}, want: [] },
    { rule: 'key syntax', extra: { data: { 'a/b': 'x' } }, want: [`data[a/b]: Invalid value: "a/b": ${CONFIG_KEY}`] },
    { rule: "key '..'", extra: { data: { '..': 'x' } }, want: ["data[..]: Invalid value: \"..\": must not be '..'"] },
    { rule: "key starting with '..'", extra: { binaryData: { '..x': b64('x') } }, want: ["binaryData[..x]: Invalid value: \"..x\": must not start with '..'"] },
    { rule: 'key in both', extra: { data: { a: 'x' }, binaryData: { a: b64('y') } }, want: ['data[a]: Invalid value: "a": duplicate of key present in binaryData'] },
    { rule: '1 MiB in total', extra: { data: { a: 'x'.repeat(600 * 1024), b: 'y'.repeat(600 * 1024) } }, want: [': Too long: may not be more than 1048576 bytes'] },
    { rule: 'name', extra: { metadata: { name: 'My_Config', namespace: 'default' } }, want: [`metadata.name: Invalid value: "My_Config": ${SUBDOMAIN}`] },
  ];
  it.each(cases)('$rule', ({ extra, want }) => expect(errorsOf(ConfigMap, validateConfigMap, cm(extra))).toEqual(want));

  it('is frozen once immutable', () => {
    const old = cm({ immutable: true, data: { a: '1' }, binaryData: { b: b64('2') } });
    expect(updateErrorsOf(ConfigMap, validateConfigMapUpdate, cm({ immutable: true, data: { a: '1' }, binaryData: { b: b64('2') } }), old)).toEqual([]);
    expect(updateErrorsOf(ConfigMap, validateConfigMapUpdate, cm({ data: { a: '2' } }), old)).toEqual([
      'immutable: Forbidden: field is immutable when `immutable` is set',
      'data: Forbidden: field is immutable when `immutable` is set',
      'binaryData: Forbidden: field is immutable when `immutable` is set',
    ]);
  });

  it('may become immutable and change data while mutable', () => {
    expect(updateErrorsOf(ConfigMap, validateConfigMapUpdate, cm({ immutable: true, data: { a: '2' } }), cm({ data: { a: '1' } }))).toEqual([]);
  });
});

describe('Secret', () => {
  it('defaults type to Opaque and merges stringData into data', () => {
    const s = decode(Secret, secret({ data: { a: b64('old'), b: b64('keep') }, stringData: { a: 'new', c: 'plain' } }));
    expect(s.type).toBe('Opaque');
    expect(s).not.toHaveProperty('stringData');
    expect(s.data).toEqual({ a: b64('new'), b: b64('keep'), c: b64('plain') });
  });

  const cases: Array<{ rule: string; extra: Json; want: string[] }> = [
    { rule: 'opaque', extra: { data: { password: b64('s3cret') } }, want: [] },
    { rule: 'key syntax', extra: { data: { 'a b': b64('x') } }, want: [`data[a b]: Invalid value: "a b": ${CONFIG_KEY}`] },
    { rule: 'base64', extra: { data: { a: 'not base64!' } }, want: ['data[a]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 3'] },
    { rule: 'base64 padding', extra: { data: { a: 'YWJj ZA' } }, want: ['data[a]: Invalid value: "<secret contents redacted>": illegal base64 data at input byte 4'] },
    { rule: 'base64 with line breaks is fine', extra: { data: { a: 'YWJj\nZGVm' } }, want: [] },
    { rule: '1 MiB of decoded data', extra: { data: { a: b64('x'.repeat(1024 * 1024 + 1)) } }, want: ['data: Too long: may not be more than 1048576 bytes'] },
    {
      rule: 'service-account-token needs the account name',
      extra: { type: 'kubernetes.io/service-account-token' },
      want: ['metadata.annotations[kubernetes.io/service-account.name]: Required value'],
    },
    {
      rule: 'service-account-token with the annotation',
      extra: { type: 'kubernetes.io/service-account-token', metadata: { ...meta, annotations: { 'kubernetes.io/service-account.name': 'default' } } },
      want: [],
    },
    { rule: 'tls needs cert and key', extra: { type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c') } }, want: ['data[tls.key]: Required value'] },
    { rule: 'tls from stringData', extra: { type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'c', 'tls.key': 'k' } }, want: [] },
    { rule: 'dockerconfigjson key', extra: { type: 'kubernetes.io/dockerconfigjson' }, want: ['data[.dockerconfigjson]: Required value'] },
    {
      rule: 'dockerconfigjson is JSON',
      extra: { type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': 'auths' } },
      want: ['data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": invalid character \'a\' looking for beginning of value'],
    },
    {
      rule: 'dockerconfigjson is a JSON object',
      extra: { type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '[]' } },
      want: ['data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}'],
    },
    { rule: 'dockerconfigjson valid', extra: { type: 'kubernetes.io/dockerconfigjson', stringData: { '.dockerconfigjson': '{"auths":{}}' } }, want: [] },
    { rule: 'dockercfg key', extra: { type: 'kubernetes.io/dockercfg' }, want: ['data[.dockercfg]: Required value'] },
    { rule: 'basic-auth needs one of the two', extra: { type: 'kubernetes.io/basic-auth' }, want: ['data[username]: Required value', 'data[password]: Required value'] },
    { rule: 'basic-auth with a username', extra: { type: 'kubernetes.io/basic-auth', stringData: { username: 'admin' } }, want: [] },
    { rule: 'ssh-auth needs a key', extra: { type: 'kubernetes.io/ssh-auth', data: { 'ssh-privatekey': '' } }, want: ['data[ssh-privatekey]: Required value'] },
    { rule: 'other types are free-form', extra: { type: 'example.com/custom' }, want: [] },
  ];
  it.each(cases)('$rule', ({ extra, want }) => expect(errorsOf(Secret, validateSecret, secret(extra))).toEqual(want));

  it('keeps its type', () => {
    expect(updateErrorsOf(Secret, validateSecretUpdate, secret({ type: 'example.com/x' }), secret({}))).toEqual([
      'type: Invalid value: "example.com/x": field is immutable',
    ]);
  });

  it('keeps its data once immutable (stringData counts as data)', () => {
    const old = secret({ immutable: true, data: { a: b64('1') } });
    expect(updateErrorsOf(Secret, validateSecretUpdate, secret({ immutable: true, stringData: { a: '1' } }), old)).toEqual([]);
    expect(updateErrorsOf(Secret, validateSecretUpdate, secret({ immutable: true, stringData: { a: '2' } }), old)).toEqual([
      'data: Forbidden: field is immutable when `immutable` is set',
    ]);
    expect(updateErrorsOf(Secret, validateSecretUpdate, secret({ immutable: false, data: { a: b64('1') } }), old)).toEqual([
      'immutable: Forbidden: field is immutable when `immutable` is set',
    ]);
  });
});

describe('ServiceAccount', () => {
  it('validates metadata and carries secrets and pull secrets', () => {
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta, secrets: [{ name: 'tok' }], imagePullSecrets: [{ name: 'reg' }], automountServiceAccountToken: false };
    expect(errorsOf(ServiceAccount, validateServiceAccount, sa)).toEqual([]);
    expect(decode(ServiceAccount, sa)).toMatchObject({ secrets: [{ name: 'tok' }], imagePullSecrets: [{ name: 'reg' }], automountServiceAccountToken: false });
    expect(errorsOf(ServiceAccount, validateServiceAccount, { ...sa, metadata: { name: 'Bad', namespace: 'default' } })).toEqual([
      `metadata.name: Invalid value: "Bad": ${SUBDOMAIN}`,
    ]);
  });
});

describe('Endpoints', () => {
  const ep = (subsets: Json): Json => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: meta, subsets });

  it('defaults port protocol to TCP', () => {
    expect(decode(Endpoints, ep([{ addresses: [{ ip: '10.1.2.3' }], ports: [{ port: 80 }] }])).subsets?.[0]?.ports).toEqual([{ port: 80, protocol: 'TCP' }]);
  });

  const cases: Array<{ rule: string; subsets: Json; want: string[] }> = [
    { rule: 'valid', subsets: [{ addresses: [{ ip: '10.1.2.3', hostname: 'web-0', nodeName: 'node-1' }], ports: [{ port: 80, name: 'http' }] }], want: [] },
    { rule: 'headless endpoints need no ports', subsets: [{ notReadyAddresses: [{ ip: '10.1.2.3' }] }], want: [] },
    { rule: 'addresses required', subsets: [{ ports: [{ port: 80 }] }], want: ['subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`'] },
    {
      rule: 'ip must be an IP',
      subsets: [{ addresses: [{ ip: 'web' }] }],
      want: [`subsets[0].addresses[0].ip: Invalid value: "web": ${IP}`, 'subsets[0].addresses[0].ip: Invalid value: "web": must be a valid IP address'],
    },
    {
      rule: 'no loopback',
      subsets: [{ addresses: [{ ip: '127.0.0.1' }] }],
      want: ['subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)'],
    },
    {
      rule: 'no link-local',
      subsets: [{ addresses: [{ ip: '169.254.169.254' }] }],
      want: ['subsets[0].addresses[0].ip: Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
    },
    { rule: 'hostname is a label', subsets: [{ addresses: [{ ip: '10.0.0.1', hostname: 'a.b' }] }], want: ['subsets[0].addresses[0].hostname: Invalid value: "a.b": must not contain dots'] },
    {
      rule: 'names required for several ports',
      subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }, { port: 81, name: 'b' }] }],
      want: ['subsets[0].ports[0].name: Required value'],
    },
    {
      rule: 'port range and protocol',
      subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 0, protocol: 'HTTP', name: 'Web' }] }],
      want: [
        `subsets[0].ports[0].name: Invalid value: "Web": ${LABEL}`,
        `subsets[0].ports[0].port: Invalid value: 0: ${PORT_RANGE}`,
        'subsets[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      ],
    },
  ];
  it.each(cases)('$rule', ({ subsets, want }) => expect(errorsOf(Endpoints, validateEndpoints, ep(subsets))).toEqual(want));
});
