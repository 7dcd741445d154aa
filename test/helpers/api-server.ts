import { chainAdmission, namespaceLifecycle } from '../../control/apiserver/admission/namespace-lifecycle.js';
import { ensureSystemNamespaces } from '../../control/apiserver/bootstrap.js';
import { ApiServer } from '../../control/apiserver/server.js';
import { ObjectStorage } from '../../control/apiserver/storage/object-storage.js';
import { MemoryStore } from '../../control/store/index.js';
import { silentLogger } from '../../lib/log.js';

/** An API server on an in-memory store, over plain HTTP on 127.0.0.1, for one test. */
export interface TestApiServer {
  base: string;
  store: MemoryStore;
  server: ApiServer;
  close(): Promise<void>;
}

/**
 * Starts one; the test closes it (afterEach), also when it fails:
 *   let api: TestApiServer | undefined;
 *   afterEach(async () => { await api?.close(); api = undefined; });
 */
export async function startTestApiServer(opts: { namespaceLifecycle?: boolean } = {}): Promise<TestApiServer> {
  const store = new MemoryStore();
  // With namespaceLifecycle, the system namespaces exist and are immortal, and a terminating namespace takes no new objects, as in `skiff control`.
  const admission = opts.namespaceLifecycle ? { admission: chainAdmission([namespaceLifecycle(new ObjectStorage(store))]) } : {};
  const server = new ApiServer({ store, logger: silentLogger(), ...admission });
  if (opts.namespaceLifecycle) await ensureSystemNamespaces(server.rest);
  const base = `http://127.0.0.1:${await server.listen(0)}`;
  return {
    base,
    store,
    server,
    async close() {
      await server.close();
      await store.close();
    },
  };
}
