/**
 * The etcd v3 gRPC API served on a member's client URLs, over any Store: etcdctl and etcd client libraries talk to
 * Skiff as to etcd.
 *
 *   proto/     etcd's wire format (packages etcdserverpb and mvccpb), written for Skiff from etcd's API reference
 *   proto.ts   loads it (from the source tree, also when running from dist/)
 *   codec.ts   wire messages <-> Store types (UTF-8 keys and values, ranges, sorting, txn ops)
 *   errors.ts  Store errors -> etcd's gRPC status codes and messages
 *   server.ts  startEtcdApiServer()
 */
export {
  startEtcdApiServer,
  type EtcdApiCluster,
  type EtcdApiMember,
  type EtcdApiServer,
  type EtcdApiServerOptions,
  type EtcdApiStats,
  type EtcdApiStatus,
  type Uint64Like,
} from './server.js';
export { EtcdGrpcError, rpcErrors, toGrpcError } from './errors.js';
export { loadEtcdServices, protoDir, LOADER_OPTIONS, type EtcdServices } from './proto.js';
