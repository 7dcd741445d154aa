import { OK, unschedulable } from '../types.js';
import type { Plugin } from './plugin.js';
import { tolerates } from './taint-toleration.js';

export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

/** NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods tolerating the unschedulable taint. */
export const NodeUnschedulable: Plugin = {
  name: 'NodeUnschedulable',
  filter: (ctx, node) => {
    if (!node.node.spec?.unschedulable) return OK;
    const taint = { key: TAINT_NODE_UNSCHEDULABLE, effect: 'NoSchedule' };
    if ((ctx.pod.pod.spec?.tolerations ?? []).some((t) => tolerates(t, taint))) return OK;
    return unschedulable(ERR_REASON_UNSCHEDULABLE, true);
  },
};
