/**
 * The Store over a real etcd v3 cluster (`--storage etcd --etcd-servers ...`), through the etcd3 client.
 *
 *   etcd-store.ts  EtcdStore / createEtcdStore({ endpoints, tls?, logger? })
 *   convert.ts     Store shapes ⇄ etcd protobuf messages (UTF-8, int64 strings, lease ids)
 *   errors.ts      etcd's gRPC errors → the Store's typed errors
 *   watch.ts       one Store watch over one etcd Watch stream (grouping by revision, resume, progress)
 */
export {
  EtcdStore,
  createEtcdStore,
  progressOrderingOf,
  type EtcdStoreOptions,
  type EtcdTlsOptions,
} from './etcd-store.js';
export type { ProgressOrdering } from './watch.js';
