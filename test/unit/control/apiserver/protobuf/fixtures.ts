// Request bodies the real kubectl 1.32 sent as application/vnd.kubernetes.protobuf, captured with
// test/unit/control/apiserver/protobuf/kubectl-harness.ts, and the JSON object each one decodes to (which
// test/integration/apiserver/protobuf.test.ts checks, live, against the same command's --dry-run=client -o json).

export interface Fixture {
  name: string;
  command: string;
  request: string;
  /** The request body, base64. */
  body: string;
  expected: Record<string, unknown>;
}

export const FIXTURES: Fixture[] = [
  {
    name: "namespace",
    command: "kubectl create namespace ns1",
    request: "POST /api/v1/namespaces",
    body: "azhzAAoPCgJ2MRIJTmFtZXNwYWNlEhsKEwoDbnMxEgAaACIAKgAyADgAQgASABoCCgAaACIA",
    expected: {"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns1","creationTimestamp":null},"spec":{},"status":{}},
  },
  {
    name: "configmap",
    command: "kubectl create configmap cm1 --from-literal=a=b",
    request: "POST /api/v1/namespaces/default/configmaps",
    body: "azhzAAoPCgJ2MRIJQ29uZmlnTWFwEh0KEwoDY20xEgAaACIAKgAyADgAQgASBgoBYRIBYhoAIgA=",
    expected: {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1","creationTimestamp":null},"data":{"a":"b"}},
  },
  {
    name: "secret",
    command: "kubectl create secret generic s1 --from-literal=k=ÿ\u0001v",
    request: "POST /api/v1/namespaces/default/secrets",
    body: "azhzAAoMCgJ2MRIGU2VjcmV0EiEKEgoCczESABoAIgAqADIAOABCABIJCgFrEgTDvwF2GgAaACIA",
    expected: {"apiVersion":"v1","kind":"Secret","metadata":{"name":"s1","creationTimestamp":null},"data":{"k":"w78Bdg=="}},
  },
  {
    name: "deployment",
    command: "kubectl create deployment d0 --image=busybox --replicas=0 --port=8080 -- sleep 1",
    request: "POST /apis/apps/v1/namespaces/default/deployments",
    body: "azhzAAoVCgdhcHBzL3YxEgpEZXBsb3ltZW50EsMBCh0KAmQwEgAaACIAKgAyADgAQgBaCQoDYXBwEgJkMBKTAQgAEgsKCQoDYXBwEgJkMBp6ChsKABIAGgAiACoAMgA4AEIAWgkKA2FwcBICZDASWxI9CgdidXN5Ym94EgdidXN5Ym94GgVzbGVlcBoBMSoAMgsKABAAGJA/IgAqAEIAagByAIABAIgBAJABAKIBABoAMgBCAEoAUgBYAGAAaACCAQCKAQCaAQDCAQAiAgoAKAA4ABoMCAAQABgAIAAoADgAGgAiAA==",
    expected: {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d0","creationTimestamp":null,"labels":{"app":"d0"}},"spec":{"replicas":0,"selector":{"matchLabels":{"app":"d0"}},"template":{"metadata":{"creationTimestamp":null,"labels":{"app":"d0"}},"spec":{"containers":[{"name":"busybox","image":"busybox","command":["sleep","1"],"ports":[{"containerPort":8080}],"resources":{}}]}},"strategy":{}},"status":{}},
  },
  {
    name: "service",
    command: "kubectl create service nodeport np1 --tcp=80:http --node-port=30080",
    request: "POST /api/v1/namespaces/default/services",
    body: "azhzAAoNCgJ2MRIHU2VydmljZRJtCh8KA25wMRIAGgAiACoAMgA4AEIAWgoKA2FwcBIDbnAxEkYKIAoHODAtaHR0cBIDVENQGFAiCggBEAAaBGh0dHAogOsBEgoKA2FwcBIDbnAxGgAiCE5vZGVQb3J0OgBCAFIAWgBgAGgAGgIKABoAIgA=",
    expected: {"apiVersion":"v1","kind":"Service","metadata":{"name":"np1","creationTimestamp":null,"labels":{"app":"np1"}},"spec":{"ports":[{"name":"80-http","protocol":"TCP","port":80,"targetPort":"http","nodePort":30080}],"selector":{"app":"np1"},"type":"NodePort"},"status":{"loadBalancer":{}}},
  },
  {
    name: "pdb",
    command: "kubectl create pdb pdb1 --selector=app=x --max-unavailable=50%",
    request: "POST /apis/policy/v1/namespaces/default/poddisruptionbudgets",
    body: "azhzAAogCglwb2xpY3kvdjESE1BvZERpc3J1cHRpb25CdWRnZXQSOwoUCgRwZGIxEgAaACIAKgAyADgAQgASFxIKCggKA2FwcBIBeBoJCAEQABoDNTAlGgoIABgAIAAoADAAGgAiAA==",
    expected: {"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"pdb1","creationTimestamp":null},"spec":{"selector":{"matchLabels":{"app":"x"}},"maxUnavailable":"50%"},"status":{"disruptionsAllowed":0,"currentHealthy":0,"desiredHealthy":0,"expectedPods":0}},
  },
  {
    name: "quota",
    command: "kubectl create quota q1 --hard=cpu=1500m,memory=1Gi",
    request: "POST /api/v1/namespaces/default/resourcequotas",
    body: "azhzAAoTCgJ2MRINUmVzb3VyY2VRdW90YRI5ChIKAnExEgAaACIAKgAyADgAQgASIQoOCgNjcHUSBwoFMTUwMG0KDwoGbWVtb3J5EgUKAzFHaRoAGgAiAA==",
    expected: {"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q1","creationTimestamp":null},"spec":{"hard":{"cpu":"1500m","memory":"1Gi"}},"status":{}},
  },
  {
    name: "priorityclass",
    command: "kubectl create priorityclass pc0 --value=0 --preemption-policy=Never",
    request: "POST /apis/scheduling.k8s.io/v1/priorityclasses",
    body: "azhzAAolChRzY2hlZHVsaW5nLms4cy5pby92MRINUHJpb3JpdHlDbGFzcxIiChMKA3BjMBIAGgAiACoAMgA4AEIAEAAYACIAKgVOZXZlchoAIgA=",
    expected: {"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"pc0","creationTimestamp":null},"value":0,"preemptionPolicy":"Never"},
  },
  {
    name: "token",
    command: "kubectl create token sa1 --duration=10m --audience=a",
    request: "POST /api/v1/namespaces/default/serviceaccounts/sa1/token",
    body: "azhzAAooChhhdXRoZW50aWNhdGlvbi5rOHMuaW8vdjESDFRva2VuUmVxdWVzdBIgChAKABIAGgAiACoAMgA4AEIAEgYKAWEg2AQaBAoAEgAaACIA",
    expected: {"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","metadata":{"creationTimestamp":null},"spec":{"audiences":["a"],"expirationSeconds":600},"status":{"expirationTimestamp":null}},
  },
  {
    name: "deleteoptions",
    command: "kubectl drain n1 --grace-period=0 --disable-eviction --timeout=10s",
    request: "DELETE /api/v1/namespaces/default/pods/p1",
    body: "azhzAAoTCgJ2MRINRGVsZXRlT3B0aW9ucxICCAAaACIA",
    expected: {"apiVersion":"v1","kind":"DeleteOptions","gracePeriodSeconds":0},
  },
];
