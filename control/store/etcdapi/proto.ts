import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/**
 * Loads Skiff's etcd v3 protocol definitions (proto/rpc.proto and proto/kv.proto, next to this module in the
 * source tree). `tsc` does not copy .proto files into dist/, so when this module runs from
 * dist/control/store/etcdapi/ the directory is found back in the source tree, four levels up.
 */
export function protoDir(): string {
  const candidates = [
    new URL('./proto/', import.meta.url),
    new URL('../../../../control/store/etcdapi/proto/', import.meta.url),
  ];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    if (existsSync(`${dir}rpc.proto`)) return dir;
  }
  throw new Error(
    `etcd API: proto definitions not found (looked in ${candidates.map((u) => fileURLToPath(u)).join(', ')})`,
  );
}

/**
 * How messages look in JavaScript: field names exactly as in the .proto (keepCase), 64-bit integers as decimal
 * strings (they may exceed 2^53), bytes as Buffers, enums as numbers, unset scalars as their defaults, and the set
 * member of a oneof named by its oneof field.
 */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  oneofs: true,
};

export interface EtcdServices {
  readonly KV: grpc.ServiceClientConstructor;
  readonly Watch: grpc.ServiceClientConstructor;
  readonly Lease: grpc.ServiceClientConstructor;
  readonly Cluster: grpc.ServiceClientConstructor;
  readonly Maintenance: grpc.ServiceClientConstructor;
}

let cached: EtcdServices | undefined;

/** The five etcdserverpb services, as grpc-js client constructors (whose `.service` a server adds). */
export function loadEtcdServices(): EtcdServices {
  if (cached !== undefined) return cached;
  const dir = protoDir();
  const definition = protoLoader.loadSync('rpc.proto', { ...LOADER_OPTIONS, includeDirs: [dir] });
  const root = grpc.loadPackageDefinition(definition) as unknown as {
    etcdserverpb: Record<keyof EtcdServices, grpc.ServiceClientConstructor>;
  };
  const pb = root.etcdserverpb;
  cached = { KV: pb.KV, Watch: pb.Watch, Lease: pb.Lease, Cluster: pb.Cluster, Maintenance: pb.Maintenance };
  return cached;
}
