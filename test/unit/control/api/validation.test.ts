// Each upstream validation rule, shown with a real failing manifest and the exact error line kubectl would print.
import { describe, expect, it } from 'vitest';
import { errorsOf, minimalPod, podWith } from './helpers.js';

const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const LABEL_KEY_NAME =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const PORT_RANGE = 'must be between 1 and 65535, inclusive';
const QUANTITY = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

type Edit = (p: any) => void;
const c0 = (edit: (c: any) => void): Edit => (p) => edit(p.spec.containers[0]);

interface Case {
  rule: string;
  edit: Edit;
  want: string[];
}

const cases: Case[] = [
  // ---- metadata ----
  { rule: 'name required', edit: (p) => delete p.metadata.name, want: ['metadata.name: Required value: name or generateName is required'] },
  { rule: 'name is a DNS-1123 subdomain', edit: (p) => (p.metadata.name = 'Web_1'), want: [`metadata.name: Invalid value: "Web_1": ${SUBDOMAIN}`] },
  {
    rule: 'name at most 253 characters',
    edit: (p) => (p.metadata.name = 'a'.repeat(254)),
    want: [`metadata.name: Invalid value: "${'a'.repeat(254)}": must be no more than 253 characters`],
  },
  {
    rule: 'generateName may end in a dash but must otherwise be a subdomain',
    edit: (p) => {
      p.metadata.generateName = 'Web-';
    },
    want: [`metadata.generateName: Invalid value: "Web-": ${SUBDOMAIN}`],
  },
  { rule: 'namespace is a DNS-1123 label', edit: (p) => (p.metadata.namespace = 'my.ns'), want: ['metadata.namespace: Invalid value: "my.ns": must not contain dots'] },
  { rule: 'namespace label syntax', edit: (p) => (p.metadata.namespace = 'Prod'), want: [`metadata.namespace: Invalid value: "Prod": ${LABEL}`] },
  { rule: 'label key syntax', edit: (p) => (p.metadata.labels = { 'bad key': 'x' }), want: [`metadata.labels: Invalid value: "bad key": ${LABEL_KEY_NAME}`] },
  {
    rule: 'label key prefix is a subdomain',
    edit: (p) => (p.metadata.labels = { 'Example.com/app': 'x' }),
    want: [`metadata.labels: Invalid value: "Example.com/app": prefix part ${SUBDOMAIN}`],
  },
  { rule: 'label value syntax', edit: (p) => (p.metadata.labels = { app: '-web' }), want: [`metadata.labels: Invalid value: "-web": ${LABEL_VALUE}`] },
  {
    rule: 'label value at most 63 characters',
    edit: (p) => (p.metadata.labels = { app: 'a'.repeat(64) }),
    want: [`metadata.labels: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`],
  },
  {
    rule: 'annotation keys are qualified names (case-insensitive)',
    edit: (p) => (p.metadata.annotations = { 'Example.com/Note': 'ok', 'a/b/c': 'x' }),
    want: [
      `metadata.annotations: Invalid value: "a/b/c": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ],
  },
  {
    rule: 'annotations total at most 256 KiB',
    edit: (p) => (p.metadata.annotations = { big: 'x'.repeat(256 * 1024) }),
    want: ['metadata.annotations: Too long: may not be more than 262144 bytes'],
  },
  { rule: 'generation non-negative', edit: (p) => (p.metadata.generation = -1), want: ['metadata.generation: Invalid value: -1: must be greater than or equal to 0'] },
  {
    rule: 'finalizers are qualified names',
    edit: (p) => (p.metadata.finalizers = ['ok.io/x', 'no good']),
    want: [`metadata.finalizers: Invalid value: "no good": ${LABEL_KEY_NAME}`],
  },

  // ---- containers ----
  { rule: 'at least one container', edit: (p) => (p.spec.containers = []), want: ['spec.containers: Required value'] },
  { rule: 'container name required', edit: c0((c) => delete c.name), want: ['spec.containers[0].name: Required value'] },
  { rule: 'container name is a DNS-1123 label', edit: c0((c) => (c.name = 'Web_App')), want: [`spec.containers[0].name: Invalid value: "Web_App": ${LABEL}`] },
  {
    rule: 'container names unique across app containers',
    edit: (p) => p.spec.containers.push({ name: 'web', image: 'nginx:1' }),
    want: ['spec.containers[1].name: Duplicate value: "web"'],
  },
  {
    rule: 'container names unique across init and app containers',
    edit: (p) => (p.spec.initContainers = [{ name: 'web', image: 'busybox:1' }]),
    want: ['spec.initContainers[0].name: Duplicate value: "web"'],
  },
  { rule: 'image required', edit: c0((c) => delete c.image), want: ['spec.containers[0].image: Required value'] },
  {
    rule: 'image without surrounding whitespace',
    edit: c0((c) => (c.image = ' nginx:1')),
    want: ['spec.containers[0].image: Invalid value: " nginx:1": must not have leading or trailing whitespace'],
  },
  {
    rule: 'imagePullPolicy values',
    edit: c0((c) => (c.imagePullPolicy = 'Sometimes')),
    want: ['spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"'],
  },
  {
    rule: 'terminationMessagePolicy values',
    edit: c0((c) => (c.terminationMessagePolicy = 'Logs')),
    want: [`spec.containers[0].terminationMessagePolicy: Invalid value: "Logs": must be 'File' or 'FallbackToLogsOnError'`],
  },
  {
    rule: 'restartPolicy only on init containers',
    edit: c0((c) => (c.restartPolicy = 'Always')),
    want: ['spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers'],
  },

  // ---- ports ----
  { rule: 'containerPort required', edit: c0((c) => (c.ports = [{ name: 'http' }])), want: ['spec.containers[0].ports[0].containerPort: Required value'] },
  {
    rule: 'containerPort in range',
    edit: c0((c) => (c.ports = [{ containerPort: 80 }, { containerPort: 70000 }])),
    want: [`spec.containers[0].ports[1].containerPort: Invalid value: 70000: ${PORT_RANGE}`],
  },
  {
    rule: 'hostPort in range',
    edit: c0((c) => (c.ports = [{ containerPort: 80, hostPort: -1 }])),
    want: [`spec.containers[0].ports[0].hostPort: Invalid value: -1: ${PORT_RANGE}`],
  },
  {
    rule: 'port name is an IANA_SVC_NAME',
    edit: c0((c) => (c.ports = [{ name: 'Http--port-number', containerPort: 80 }])),
    want: [
      'spec.containers[0].ports[0].name: Invalid value: "Http--port-number": must be no more than 15 characters',
      'spec.containers[0].ports[0].name: Invalid value: "Http--port-number": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.containers[0].ports[0].name: Invalid value: "Http--port-number": must not contain consecutive hyphens',
    ],
  },
  {
    rule: 'port name needs a letter',
    edit: c0((c) => (c.ports = [{ name: '8080', containerPort: 8080 }])),
    want: ['spec.containers[0].ports[0].name: Invalid value: "8080": must contain at least one letter (a-z)'],
  },
  {
    rule: 'port names unique',
    edit: c0((c) => (c.ports = [{ name: 'http', containerPort: 80 }, { name: 'http', containerPort: 81 }])),
    want: ['spec.containers[0].ports[1].name: Duplicate value: "http"'],
  },
  {
    rule: 'protocol values',
    edit: c0((c) => (c.ports = [{ containerPort: 80, protocol: 'HTTP' }])),
    want: ['spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
  },
  {
    rule: 'host ports unique across containers',
    edit: (p) => {
      p.spec.containers[0].ports = [{ containerPort: 80, hostPort: 8080 }];
      p.spec.containers.push({ name: 'b', image: 'nginx:1', ports: [{ containerPort: 81, hostPort: 8080 }] });
    },
    want: ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"'],
  },
  {
    rule: 'hostNetwork needs hostPort == containerPort',
    edit: (p) => {
      p.spec.hostNetwork = true;
      p.spec.containers[0].ports = [{ containerPort: 80, hostPort: 8080 }];
    },
    want: ['spec.containers[0].ports[0].containerPort: Invalid value: 80: must match `hostPort` when `hostNetwork` is true'],
  },

  // ---- pod-level enums and numbers ----
  {
    rule: 'restartPolicy values',
    edit: (p) => (p.spec.restartPolicy = 'Sometimes'),
    want: ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'],
  },
  {
    rule: 'dnsPolicy values',
    edit: (p) => (p.spec.dnsPolicy = 'Cluster'),
    want: ['spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'],
  },
  {
    rule: 'dnsPolicy None needs dnsConfig',
    edit: (p) => (p.spec.dnsPolicy = 'None'),
    want: ['spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None'],
  },
  {
    rule: 'dnsConfig nameservers are IPs',
    edit: (p) => (p.spec.dnsConfig = { nameservers: ['dns.local'] }),
    want: ['spec.dnsConfig.nameservers[0]: Invalid value: "dns.local": must be valid IP address'],
  },
  {
    rule: 'terminationGracePeriodSeconds non-negative',
    edit: (p) => (p.spec.terminationGracePeriodSeconds = -5),
    want: ['spec.terminationGracePeriodSeconds: Invalid value: -5: must be greater than or equal to 0'],
  },
  {
    rule: 'activeDeadlineSeconds positive',
    edit: (p) => (p.spec.activeDeadlineSeconds = 0),
    want: ['spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive'],
  },
  { rule: 'hostname is a DNS label', edit: (p) => (p.spec.hostname = 'a.b'), want: ['spec.hostname: Invalid value: "a.b": must not contain dots'] },
  { rule: 'nodeSelector labels', edit: (p) => (p.spec.nodeSelector = { 'disk type': 'ssd' }), want: [`spec.nodeSelector: Invalid value: "disk type": ${LABEL_KEY_NAME}`] },
  {
    rule: 'toleration operator values',
    edit: (p) => (p.spec.tolerations = [{ key: 'k', operator: 'In', value: 'v' }]),
    want: ['spec.tolerations[0].operator: Unsupported value: "In": supported values: "Equal", "Exists"'],
  },
  {
    rule: 'toleration with empty key must use Exists',
    edit: (p) => (p.spec.tolerations = [{ operator: 'Equal', value: 'v' }]),
    want: ['spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"'],
  },
  {
    rule: 'tolerationSeconds needs NoExecute',
    edit: (p) => (p.spec.tolerations = [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }]),
    want: [`spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be 'NoExecute' when \`tolerationSeconds\` is set`],
  },

  // ---- env ----
  { rule: 'env name required', edit: c0((c) => (c.env = [{ value: 'x' }])), want: ['spec.containers[0].env[0].name: Required value'] },
  {
    rule: "env name is printable ASCII without '='",
    edit: c0((c) => (c.env = [{ name: 'A=B', value: 'x' }])),
    want: [`spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`],
  },
  {
    rule: 'env value and valueFrom are exclusive',
    edit: c0((c) => (c.env = [{ name: 'A', value: 'x', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }])),
    want: ['spec.containers[0].env[0].valueFrom: Invalid value: "": may not be specified when `value` is not empty'],
  },
  {
    rule: 'valueFrom names exactly one source',
    edit: c0((c) => (c.env = [{ name: 'A', valueFrom: {} }])),
    want: ['spec.containers[0].env[0].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'],
  },
  {
    rule: 'valueFrom has at most one source',
    edit: c0(
      (c) => (c.env = [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'metadata.name' }, secretKeyRef: { name: 's', key: 'k' } } }]),
    ),
    want: ['spec.containers[0].env[0].valueFrom: Invalid value: "": may not have more than one field specified at a time'],
  },
  {
    rule: 'fieldRef paths are the supported ones',
    edit: c0((c) => (c.env = [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'spec.hostname' } } }])),
    want: [
      'spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.hostname": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
    ],
  },
  {
    rule: 'resourceFieldRef resources are the supported ones',
    edit: c0((c) => (c.env = [{ name: 'A', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }])),
    want: [
      'spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported value: "limits.gpu": supported values: "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"',
    ],
  },
  {
    rule: 'subscripted fieldRef keys are qualified names',
    edit: c0((c) => (c.env = [{ name: 'A', valueFrom: { fieldRef: { fieldPath: "metadata.labels['bad key']" } } }])),
    want: [`spec.containers[0].env[0].valueFrom.fieldRef: Invalid value: "bad key": ${LABEL_KEY_NAME}`],
  },
  {
    rule: 'secretKeyRef key required',
    edit: c0((c) => (c.env = [{ name: 'A', valueFrom: { secretKeyRef: { name: 'db' } } }])),
    want: ['spec.containers[0].env[0].valueFrom.secretKeyRef.key: Required value'],
  },
  {
    rule: 'envFrom names one source',
    edit: c0((c) => (c.envFrom = [{ prefix: 'X_' }])),
    want: ['spec.containers[0].envFrom: Invalid value: "": must specify one of: `configMapRef` or `secretRef`'],
  },

  // ---- volumes and mounts ----
  {
    rule: 'volume name is a DNS label',
    edit: (p) => (p.spec.volumes = [{ name: 'Data', emptyDir: {} }]),
    want: [`spec.volumes[0].name: Invalid value: "Data": ${LABEL}`],
  },
  {
    rule: 'volume names unique',
    edit: (p) => (p.spec.volumes = [{ name: 'data', emptyDir: {} }, { name: 'data', emptyDir: {} }]),
    want: ['spec.volumes[1].name: Duplicate value: "data"'],
  },
  {
    rule: 'exactly one volume source',
    edit: (p) => (p.spec.volumes = [{ name: 'data', emptyDir: {}, hostPath: { path: '/srv' } }]),
    want: ['spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type'],
  },
  {
    rule: 'hostPath path required',
    edit: (p) => (p.spec.volumes = [{ name: 'data', hostPath: { type: 'Directory' } }]),
    want: ['spec.volumes[0].hostPath.path: Required value'],
  },
  {
    rule: 'hostPath path without backsteps',
    edit: (p) => (p.spec.volumes = [{ name: 'data', hostPath: { path: '/srv/../etc' } }]),
    want: [`spec.volumes[0].hostPath.path: Invalid value: "/srv/../etc": must not contain '..'`],
  },
  {
    rule: 'hostPath type values',
    edit: (p) => (p.spec.volumes = [{ name: 'data', hostPath: { path: '/srv', type: 'Dir' } }]),
    want: [
      'spec.volumes[0].hostPath.type: Unsupported value: "Dir": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"',
    ],
  },
  {
    rule: 'secret volume needs secretName',
    edit: (p) => (p.spec.volumes = [{ name: 'data', secret: {} }]),
    want: ['spec.volumes[0].secret.secretName: Required value'],
  },
  {
    rule: 'file modes are 0..0777',
    edit: (p) => (p.spec.volumes = [{ name: 'data', configMap: { name: 'cm', defaultMode: 1000 } }]),
    want: ['spec.volumes[0].configMap.defaultMode: Invalid value: 1000: must be a number between 0 and 0777 (octal), both inclusive'],
  },
  {
    rule: 'projected item paths stay inside the volume',
    edit: (p) => (p.spec.volumes = [{ name: 'data', configMap: { name: 'cm', items: [{ key: 'a', path: '../a' }] } }]),
    want: [
      `spec.volumes[0].configMap.items[0].path: Invalid value: "../a": must not contain '..'`,
      `spec.volumes[0].configMap.items[0].path: Invalid value: "../a": must not start with '..'`,
    ],
  },
  {
    rule: 'downwardAPI items name a source',
    edit: (p) => (p.spec.volumes = [{ name: 'info', downwardAPI: { items: [{ path: 'labels' }] } }]),
    want: ['spec.volumes[0].downwardAPI.items[0]: Required value: one of fieldRef and resourceFieldRef is required'],
  },
  {
    rule: 'downwardAPI fieldRef paths are the volume ones',
    edit: (p) => (p.spec.volumes = [{ name: 'info', downwardAPI: { items: [{ path: 'node', fieldRef: { fieldPath: 'spec.nodeName' } }] } }]),
    want: [
      'spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: Unsupported value: "spec.nodeName": supported values: "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"',
    ],
  },
  {
    rule: 'persistentVolumeClaim needs claimName',
    edit: (p) => (p.spec.volumes = [{ name: 'data', persistentVolumeClaim: {} }]),
    want: ['spec.volumes[0].persistentVolumeClaim.claimName: Required value'],
  },
  {
    rule: 'volumeMounts refer to a declared volume',
    edit: c0((c) => (c.volumeMounts = [{ name: 'data', mountPath: '/data' }])),
    want: ['spec.containers[0].volumeMounts[0].name: Not found: "data"'],
  },
  {
    rule: 'volumeMounts need a mountPath',
    edit: (p) => {
      p.spec.volumes = [{ name: 'data' }];
      p.spec.containers[0].volumeMounts = [{ name: 'data' }];
    },
    want: ['spec.containers[0].volumeMounts[0].mountPath: Required value'],
  },
  {
    rule: 'mountPaths unique within a container',
    edit: (p) => {
      p.spec.volumes = [{ name: 'a' }, { name: 'b' }];
      p.spec.containers[0].volumeMounts = [
        { name: 'a', mountPath: '/data' },
        { name: 'b', mountPath: '/data' },
      ];
    },
    want: ['spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/data": must be unique'],
  },
  {
    rule: 'subPath is relative (reported at the list path, as upstream)',
    edit: (p) => {
      p.spec.volumes = [{ name: 'a' }];
      p.spec.containers[0].volumeMounts = [{ name: 'a', mountPath: '/data', subPath: '/abs' }];
    },
    want: ['spec.containers[0].volumeMounts.subPath: Invalid value: "/abs": must be a relative path'],
  },

  // ---- probes and lifecycle ----
  {
    rule: 'probe needs a handler',
    edit: c0((c) => (c.livenessProbe = { periodSeconds: 5 })),
    want: ['spec.containers[0].livenessProbe: Required value: must specify a handler type'],
  },
  {
    rule: 'probe has at most one handler',
    edit: c0((c) => (c.readinessProbe = { exec: { command: ['true'] }, tcpSocket: { port: 80 } })),
    want: ['spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type'],
  },
  {
    rule: 'exec probe needs a command',
    edit: c0((c) => (c.readinessProbe = { exec: {} })),
    want: ['spec.containers[0].readinessProbe.exec.command: Required value'],
  },
  {
    rule: 'httpGet port number in range',
    edit: c0((c) => (c.readinessProbe = { httpGet: { port: 0 } })),
    want: [`spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: ${PORT_RANGE}`],
  },
  {
    rule: 'httpGet named port is an IANA_SVC_NAME',
    edit: c0((c) => (c.readinessProbe = { httpGet: { port: 'HTTP' } })),
    want: [
      'spec.containers[0].readinessProbe.httpGet.port: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
      'spec.containers[0].readinessProbe.httpGet.port: Invalid value: "HTTP": must contain at least one letter (a-z)',
    ],
  },
  {
    rule: 'httpGet scheme values',
    edit: c0((c) => (c.readinessProbe = { httpGet: { port: 80, scheme: 'FTP' } })),
    want: ['spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"'],
  },
  {
    rule: 'httpGet header names',
    edit: c0((c) => (c.readinessProbe = { httpGet: { port: 80, httpHeaders: [{ name: 'X Bad', value: '1' }] } })),
    want: [
      `spec.containers[0].readinessProbe.httpGet.httpHeaders: Invalid value: "X Bad": a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')`,
    ],
  },
  {
    rule: 'probe numbers non-negative',
    edit: c0((c) => (c.readinessProbe = { tcpSocket: { port: 80 }, initialDelaySeconds: -1, failureThreshold: -2 })),
    want: [
      'spec.containers[0].readinessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0',
      'spec.containers[0].readinessProbe.failureThreshold: Invalid value: -2: must be greater than or equal to 0',
    ],
  },
  {
    rule: 'liveness successThreshold must be 1',
    edit: c0((c) => (c.livenessProbe = { tcpSocket: { port: 80 }, successThreshold: 2 })),
    want: ['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1'],
  },
  {
    rule: 'startup successThreshold must be 1',
    edit: c0((c) => (c.startupProbe = { tcpSocket: { port: 80 }, successThreshold: 3 })),
    want: ['spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1'],
  },
  {
    rule: 'probe terminationGracePeriodSeconds positive',
    edit: c0((c) => (c.livenessProbe = { tcpSocket: { port: 80 }, terminationGracePeriodSeconds: 0 })),
    want: ['spec.containers[0].livenessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0'],
  },
  {
    rule: 'readiness probes have no terminationGracePeriodSeconds',
    edit: c0((c) => (c.readinessProbe = { tcpSocket: { port: 80 }, terminationGracePeriodSeconds: 5 })),
    want: ['spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must not be set for readinessProbes'],
  },
  {
    rule: 'lifecycle hooks need a handler',
    edit: c0((c) => (c.lifecycle = { preStop: {} })),
    want: ['spec.containers[0].lifecycle.preStop: Required value: must specify a handler type'],
  },
  {
    rule: 'plain init containers have no probes',
    edit: (p) => (p.spec.initContainers = [{ name: 'init', image: 'busybox:1', livenessProbe: { exec: { command: ['true'] } } }]),
    want: ['spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always'],
  },
  {
    rule: 'init container restartPolicy is Always or unset',
    edit: (p) => (p.spec.initContainers = [{ name: 'init', image: 'busybox:1', restartPolicy: 'Never' }]),
    want: ['spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"'],
  },

  // ---- resources ----
  {
    rule: 'requests at most limits',
    edit: c0((c) => (c.resources = { limits: { memory: '128Mi' }, requests: { memory: '256Mi' } })),
    want: ['spec.containers[0].resources.requests: Invalid value: "256Mi": must be less than or equal to memory limit of 128Mi'],
  },
  {
    rule: 'quantities well-formed',
    edit: c0((c) => (c.resources = { limits: { cpu: 'half' } })),
    want: [
      `spec.containers[0].resources.limits[cpu]: Invalid value: "half": ${QUANTITY}`,
      `spec.containers[0].resources.requests[cpu]: Invalid value: "half": ${QUANTITY}`,
    ],
  },
  {
    rule: 'quantities non-negative',
    edit: c0((c) => (c.resources = { requests: { cpu: '-100m' } })),
    want: ['spec.containers[0].resources.requests[cpu]: Invalid value: "-100m": must be greater than or equal to 0'],
  },
  {
    rule: 'resource names are standard for containers',
    edit: c0((c) => (c.resources = { requests: { gpu: '1' } })),
    want: ['spec.containers[0].resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers'],
  },
  {
    rule: 'extended resources need equal request and limit',
    edit: c0((c) => (c.resources = { limits: { 'example.com/gpu': '2' }, requests: { 'example.com/gpu': '1' } })),
    want: ['spec.containers[0].resources.requests: Invalid value: "1": must be equal to example.com/gpu limit of 2'],
  },
  {
    rule: 'a pod shares the host\'s PID namespace or its own, not both',
    edit: (p) => {
      p.spec.hostPID = true;
      p.spec.shareProcessNamespace = true;
    },
    want: ['spec.securityContext.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled'],
  },
  {
    rule: 'extended resources are whole numbers',
    edit: c0((c) => (c.resources = { limits: { 'example.com/gpu': '500m' } })),
    want: [
      'spec.containers[0].resources.limits[example.com/gpu]: Invalid value: "500m": must be an integer',
      'spec.containers[0].resources.requests[example.com/gpu]: Invalid value: "500m": must be an integer',
    ],
  },
];

describe('ValidatePod rules', () => {
  it('accepts the minimal pod', () => {
    expect(errorsOf(minimalPod())).toEqual([]);
  });

  it.each(cases.map((c) => [c.rule, c] as const))('%s', (_rule, c) => {
    expect(errorsOf(podWith(c.edit))).toEqual(c.want);
  });

  it('collects every error, not just the first', () => {
    const errs = errorsOf(
      podWith((p) => {
        p.metadata.name = 'Bad_Name';
        p.spec.restartPolicy = 'Sometimes';
        p.spec.containers.push({ name: 'second' });
      }),
    );
    expect(errs).toEqual([
      `metadata.name: Invalid value: "Bad_Name": ${SUBDOMAIN}`,
      'spec.containers[1].image: Required value',
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
  });

  it('lets sidecars (init containers with restartPolicy Always) have probes', () => {
    const pod = podWith(
      (p) =>
        (p.spec.initContainers = [
          { name: 'proxy', image: 'envoy:1', restartPolicy: 'Always', readinessProbe: { tcpSocket: { port: 9901 } } },
        ]),
    );
    expect(errorsOf(pod)).toEqual([]);
  });
});
