import { OK, unschedulable } from '../types.js';
import type { Plugin } from './plugin.js';

export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

/** NodeName: a pod that names its node fits only there. */
export const NodeName: Plugin = {
  name: 'NodeName',
  filter: (ctx, node) => {
    const want = ctx.pod.pod.spec?.nodeName;
    return !want || want === node.name ? OK : unschedulable(ERR_REASON_NODE_NAME, true);
  },
};
