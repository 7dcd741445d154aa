import type { KindPrinter } from '../table.js';
import {
  ageCol,
  ageOf,
  col,
  containersCol,
  controllerOf,
  formatLabels,
  formatLabelSelector,
  imagesCol,
  int,
  labelSelectorString,
  layoutContainerCells,
  nameCol,
  nameOf,
  rec,
  spec,
  status,
} from './common.js';

/** apps/v1 kinds: deployments, replica sets, daemon sets, stateful sets, controller revisions. */

function templateCells(template: unknown): [string, string] {
  return layoutContainerCells(rec(rec(template).spec).containers);
}

export const deploymentPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Ready', 'string', 'Number of the pod with ready state'),
    col('Up-to-date', 'string', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    col('Available', 'string', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    ageCol(),
    containersCol(),
    imagesCol(),
    col('Selector', 'string', 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.', 1),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const st = status(o);
    const [names, images] = templateCells(sp.template);
    // LabelSelectorAsSelector(...).String(): an empty selector prints as "", a broken one as "<invalid>".
    const selector = labelSelectorString(sp.selector) ?? '<invalid>';
    return [nameOf(o), `${int(st.readyReplicas)}/${int(sp.replicas, 1)}`, int(st.updatedReplicas), int(st.availableReplicas), ageOf(o, now), names, images, selector];
  },
};

export const replicaSetPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Desired', 'integer', 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller'),
    col('Current', 'integer', 'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller'),
    col('Ready', 'integer', 'The number of ready replicas for this replica set.'),
    ageCol(),
    containersCol(),
    imagesCol(),
    col('Selector', 'string', 'Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors', 1),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const st = status(o);
    const [names, images] = templateCells(sp.template);
    return [nameOf(o), int(sp.replicas, 1), int(st.replicas), int(st.readyReplicas), ageOf(o, now), names, images, formatLabelSelector(sp.selector)];
  },
};

export const daemonSetPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Desired', 'integer', 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/'),
    col('Current', 'integer', 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/'),
    col('Ready', 'integer', 'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.'),
    col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
    col('Available', 'integer', 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)'),
    col('Node Selector', 'string', "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"),
    ageCol(),
    containersCol(),
    imagesCol(),
    col('Selector', 'string', "A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors", 1),
  ],
  cells: (o, now) => {
    const sp = spec(o);
    const st = status(o);
    const [names, images] = templateCells(sp.template);
    return [
      nameOf(o),
      int(st.desiredNumberScheduled),
      int(st.currentNumberScheduled),
      int(st.numberReady),
      int(st.updatedNumberScheduled),
      int(st.numberAvailable),
      formatLabels(rec(rec(sp.template).spec).nodeSelector),
      ageOf(o, now),
      names,
      images,
      formatLabelSelector(sp.selector),
    ];
  },
};

export const statefulSetPrinter: KindPrinter = {
  columns: [nameCol(), col('Ready', 'string', 'Number of the pod with ready state'), ageCol(), containersCol(), imagesCol()],
  cells: (o, now) => {
    const sp = spec(o);
    const [names, images] = templateCells(sp.template);
    return [nameOf(o), `${int(status(o).readyReplicas)}/${int(sp.replicas, 1)}`, ageOf(o, now), names, images];
  },
};

export const controllerRevisionPrinter: KindPrinter = {
  columns: [
    nameCol(),
    col('Controller', 'string', 'Controller of the object'),
    col('Revision', 'string', 'Revision indicates the revision of the state represented by Data.'),
    ageCol(),
  ],
  cells: (o, now) => {
    const ref = controllerOf(o);
    let controller = '<none>';
    if (ref) {
      // formatResourceName(GroupKind, name, withKind): lower("Kind.group")/name, or lower("Kind")/name for core.
      const slash = ref.apiVersion.indexOf('/');
      const group = slash >= 0 ? ref.apiVersion.slice(0, slash) : '';
      const gk = group ? `${ref.kind}.${group}` : ref.kind;
      controller = gk ? `${gk.toLowerCase()}/${ref.name}` : ref.name;
    }
    return [nameOf(o), controller, int(o.revision), ageOf(o, now)];
  },
};

