import { OK, unschedulable } from '../types.js';
import type { Plugin } from './plugin.js';

export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

function conflicts(port: string, used: Map<string, number>): boolean {
  const [proto, ip, num] = port.split('/');
  for (const u of used.keys()) {
    const [uproto, uip, unum] = u.split('/');
    // 0.0.0.0 on either side takes the port on every address.
    if (uproto === proto && unum === num && (uip === ip || uip === '0.0.0.0' || ip === '0.0.0.0')) return true;
  }
  return false;
}

/** NodePorts: a hostPort (protocol, address, port) can be taken by one pod per node. */
export const NodePorts: Plugin = {
  name: 'NodePorts',
  filter: (ctx, node) => {
    if (ctx.pod.hostPorts.length === 0 || node.usedPorts.size === 0) return OK;
    return ctx.pod.hostPorts.some((p) => conflicts(p, node.usedPorts)) ? unschedulable(ERR_REASON_NODE_PORTS) : OK;
  },
};
