// What `kubectl create <kind> --dry-run=client -o json` (kubectl 1.32) sends for the kinds of these groups: each must
// decode strictly and validate (nulls such as creationTimestamp and rules: null are Go zero values).
import { describe, expect, it } from 'vitest';
import * as api from '../../../../../control/api/index.js';
import { lines } from './helpers.js';

const FIXTURES: Record<string, any> = {
  "d1": {
    "kind": "Deployment",
    "apiVersion": "apps/v1",
    "metadata": {
      "name": "d1",
      "creationTimestamp": null,
      "labels": {
        "app": "d1"
      }
    },
    "spec": {
      "replicas": 2,
      "selector": {
        "matchLabels": {
          "app": "d1"
        }
      },
      "template": {
        "metadata": {
          "creationTimestamp": null,
          "labels": {
            "app": "d1"
          }
        },
        "spec": {
          "containers": [
            {
              "name": "nginx",
              "image": "nginx",
              "ports": [
                {
                  "containerPort": 80
                }
              ],
              "resources": {}
            }
          ]
        }
      },
      "strategy": {}
    },
    "status": {}
  },
  "d0": {
    "kind": "Deployment",
    "apiVersion": "apps/v1",
    "metadata": {
      "name": "d0",
      "creationTimestamp": null,
      "labels": {
        "app": "d0"
      }
    },
    "spec": {
      "replicas": 0,
      "selector": {
        "matchLabels": {
          "app": "d0"
        }
      },
      "template": {
        "metadata": {
          "creationTimestamp": null,
          "labels": {
            "app": "d0"
          }
        },
        "spec": {
          "containers": [
            {
              "name": "busybox",
              "image": "busybox",
              "command": [
                "sleep",
                "3600"
              ],
              "resources": {}
            }
          ]
        }
      },
      "strategy": {}
    },
    "status": {}
  },
  "j1": {
    "kind": "Job",
    "apiVersion": "batch/v1",
    "metadata": {
      "name": "j1",
      "creationTimestamp": null
    },
    "spec": {
      "template": {
        "metadata": {
          "creationTimestamp": null
        },
        "spec": {
          "containers": [
            {
              "name": "j1",
              "image": "busybox",
              "command": [
                "echo",
                "hi"
              ],
              "resources": {}
            }
          ],
          "restartPolicy": "Never"
        }
      }
    },
    "status": {}
  },
  "cj1": {
    "kind": "CronJob",
    "apiVersion": "batch/v1",
    "metadata": {
      "name": "cj1",
      "creationTimestamp": null
    },
    "spec": {
      "schedule": "*/5 * * * *",
      "jobTemplate": {
        "metadata": {
          "name": "cj1",
          "creationTimestamp": null
        },
        "spec": {
          "template": {
            "metadata": {
              "creationTimestamp": null
            },
            "spec": {
              "containers": [
                {
                  "name": "cj1",
                  "image": "busybox",
                  "command": [
                    "date"
                  ],
                  "resources": {}
                }
              ],
              "restartPolicy": "OnFailure"
            }
          }
        }
      }
    },
    "status": {}
  },
  "rb1": {
    "kind": "RoleBinding",
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "metadata": {
      "name": "rb1",
      "creationTimestamp": null
    },
    "subjects": [
      {
        "kind": "User",
        "apiGroup": "rbac.authorization.k8s.io",
        "name": "alice"
      },
      {
        "kind": "Group",
        "apiGroup": "rbac.authorization.k8s.io",
        "name": "devs"
      },
      {
        "kind": "ServiceAccount",
        "name": "sa1",
        "namespace": "default"
      }
    ],
    "roleRef": {
      "apiGroup": "rbac.authorization.k8s.io",
      "kind": "Role",
      "name": "r1"
    }
  },
  "crb1": {
    "kind": "ClusterRoleBinding",
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "metadata": {
      "name": "crb1",
      "creationTimestamp": null
    },
    "subjects": [
      {
        "kind": "Group",
        "apiGroup": "rbac.authorization.k8s.io",
        "name": "devs"
      }
    ],
    "roleRef": {
      "apiGroup": "rbac.authorization.k8s.io",
      "kind": "ClusterRole",
      "name": "cr1"
    }
  },
  "cr2": {
    "kind": "ClusterRole",
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "metadata": {
      "name": "cr2",
      "creationTimestamp": null
    },
    "rules": null,
    "aggregationRule": {
      "clusterRoleSelectors": [
        {
          "matchLabels": {
            "rbac.example.com/aggregate": "true"
          }
        }
      ]
    }
  },
  "pc0": {
    "kind": "PriorityClass",
    "apiVersion": "scheduling.k8s.io/v1",
    "metadata": {
      "name": "pc0",
      "creationTimestamp": null
    },
    "value": 0,
    "globalDefault": true,
    "preemptionPolicy": "Never"
  },
  "pdb1": {
    "kind": "PodDisruptionBudget",
    "apiVersion": "policy/v1",
    "metadata": {
      "name": "pdb1",
      "creationTimestamp": null
    },
    "spec": {
      "minAvailable": 1,
      "selector": {
        "matchLabels": {
          "app": "x"
        }
      }
    },
    "status": {
      "disruptionsAllowed": 0,
      "currentHealthy": 0,
      "desiredHealthy": 0,
      "expectedPods": 0
    }
  },
  "pdb2": {
    "kind": "PodDisruptionBudget",
    "apiVersion": "policy/v1",
    "metadata": {
      "name": "pdb2",
      "creationTimestamp": null
    },
    "spec": {
      "selector": {
        "matchLabels": {
          "app": "y"
        }
      },
      "maxUnavailable": "50%"
    },
    "status": {
      "disruptionsAllowed": 0,
      "currentHealthy": 0,
      "desiredHealthy": 0,
      "expectedPods": 0
    }
  }
};

type Parse = (doc: unknown, opts?: { strict?: boolean }) => Parameters<typeof lines>[0];
const PARSERS: Record<string, Parse> = {
  Deployment: api.parseDeployment,
  Job: (d: any, o) => api.parseJob({ ...d, metadata: { ...d.metadata, namespace: 'default', uid: '1d3e2f4a-0000-4000-8000-00000000000a' } }, o),
  CronJob: api.parseCronJob,
  RoleBinding: api.parseRoleBinding,
  ClusterRoleBinding: api.parseClusterRoleBinding,
  ClusterRole: api.parseClusterRole,
  PriorityClass: api.parsePriorityClass,
  PodDisruptionBudget: api.parsePodDisruptionBudget,
};

describe('kubectl create --dry-run=client objects', () => {
  it.each(Object.entries(FIXTURES))('%s', (_name, obj) => {
    expect(lines((PARSERS[obj.kind] as Parse)(obj, { strict: true }))).toEqual([]);
  });
});
