import { afterEach, describe, expect, it } from 'vitest';
import { staticTokenAuthenticator } from '../../../../control/apiserver/authn.js';
import { createStorageAuthorizer, ensureBootstrapPolicy } from '../../../../control/apiserver/authz/index.js';
import { loopbackPair } from '../../../../control/apiserver/loopback.js';
import { ApiServer } from '../../../../control/apiserver/server.js';
import { ObjectStorage } from '../../../../control/apiserver/storage/object-storage.js';
import { ApiStatusError, Informer, KubeClient, type KubeObject, type WatchEvent } from '../../../../control/client/index.js';
import { MemoryStore } from '../../../../control/store/index.js';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../../lib/log.js';
import { eventually } from '../../../integration/agent/harness.js';

const configmaps = { group: '', version: 'v1', resource: 'configmaps' };
const nodes = { group: '', version: 'v1', resource: 'nodes' };
const reviews = { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews' };
const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });

describe('loopback transport', () => {
  let server: ApiServer | undefined;
  let store: MemoryStore | undefined;
  const clients: KubeClient[] = [];
  const informers: Informer[] = [];
  afterEach(async () => {
    for (const i of informers.splice(0)) i.stop();
    for (const c of clients.splice(0)) c.close();
    await server?.close();
    await store?.close();
    server = undefined;
  });

  /** An API server with authentication (one static token user, nobody in particular) and Node,RBAC authorization. */
  async function start(storeOptions: ConstructorParameters<typeof MemoryStore>[0] = {}): Promise<ApiServer> {
    store = new MemoryStore(storeOptions);
    server = new ApiServer({
      store,
      logger: silentLogger(),
      authenticate: staticTokenAuthenticator([{ token: 'nobody-token', user: { name: 'nobody', groups: ['system:authenticated'] } }]),
      authorizer: createStorageAuthorizer(new ObjectStorage(store)),
    });
    await ensureBootstrapPolicy(server.storage);
    return server;
  }

  const client = (conn: ConstructorParameters<typeof KubeClient>[0]): KubeClient => {
    const c = new KubeClient(conn, 'loopback-test');
    clients.push(c);
    return c;
  };

  it('serves CRUD and lists over in-memory connections, without the server listening anywhere', async () => {
    const c = client((await start()).loopbackConnection());
    const created = await c.create(configmaps, 'default', cm('a', { k: 'v' }));
    expect(created.metadata.uid).toBeTruthy();
    const updated = await c.update(configmaps, { ...created, data: { k: 'w' } });
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    expect((await c.get(configmaps, 'default', 'a')).data).toEqual({ k: 'w' });
    await c.patch(configmaps, 'default', 'a', { data: { k: 'x' } });
    expect((await c.list(configmaps, { namespace: 'default' })).items.map((o) => o.data)).toEqual([{ k: 'x' }]);
    await c.delete(configmaps, 'default', 'a');
    await expect(c.get(configmaps, 'default', 'a')).rejects.toMatchObject({ code: 404 });
  });

  it('carries many requests at once, and responses larger than a stream buffer whole', async () => {
    const c = client((await start()).loopbackConnection());
    const big = 'x'.repeat(200_000);
    await Promise.all(Array.from({ length: 60 }, (_, i) => c.create(configmaps, 'default', cm(`cm-${i}`, { big }))));
    const listed = await c.list(configmaps, { namespace: 'default' });
    expect(listed.items).toHaveLength(60);
    expect(listed.items.every((o) => (o.data as { big: string }).big === big)).toBe(true);
  });

  it('authenticates as system:apiserver in system:masters, which may do anything', async () => {
    const s = await start();
    const loopback = client(s.loopbackConnection());
    const review = await loopback.create(reviews, undefined, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: { resourceAttributes: { verb: 'delete', resource: 'nodes' } } } as KubeObject);
    expect((review.status as { allowed: boolean }).allowed).toBe(true);
    await loopback.create(nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    // The user it is refused to: the loopback identity is a privilege, not the default.
    const conn = s.loopbackConnection();
    const nobody = client({ ...conn, token: 'nobody-token' });
    await expect(nobody.delete(nodes, undefined, 'n1')).rejects.toMatchObject({ code: 403 });
  });

  it('accepts the loopback token only on an in-memory connection, and only that token on one', async () => {
    const s = await start();
    const conn = s.loopbackConnection();
    const port = await s.listen(0);
    // The token over the network is nobody's.
    const overTcp = client({ server: `http://127.0.0.1:${port}`, token: conn.token as string });
    await expect(overTcp.list(configmaps)).rejects.toMatchObject({ code: 401 });
    // An in-memory connection without the token, or with another, is nobody's either.
    await expect(client({ ...conn, token: undefined }).list(configmaps)).rejects.toMatchObject({ code: 401 });
    await expect(client({ ...conn, token: `${conn.token as string}x` }).list(configmaps)).rejects.toMatchObject({ code: 401 });
    // Each server has its own token.
    const other = new ApiServer({ store: store!, logger: silentLogger() });
    expect(other.loopbackConnection().token).not.toBe(conn.token);
    await other.close();
    expect((await client(conn).list(configmaps)).items).toEqual([]);
  });

  it('streams watches with bookmarks, and answers a compacted resourceVersion with 410 Gone', async () => {
    const c = client((await start({ progressIntervalMs: 200, autoTickMs: 50 })).loopbackConnection());
    // Compacted before any watch started: a watch from before the compaction cannot be served.
    const first = await c.create(configmaps, 'default', cm('w0'));
    await c.create(configmaps, 'default', cm('w1'));
    const head = Number((await c.create(configmaps, 'default', cm('w2'))).metadata.resourceVersion);
    await store!.compact(head);
    const gone: WatchEvent[] = [];
    await c.watch(configmaps, { resourceVersion: first.metadata.resourceVersion }, (e) => gone.push(e), () => undefined);
    await eventually(() => gone.length > 0, 'the watch error');
    expect(gone[0]?.type).toBe('ERROR');
    expect((gone[0]?.object as unknown as { code: number }).code).toBe(410);
    const events: WatchEvent[] = [];
    let ended = false;
    const stop = await c.watch(configmaps, { namespace: 'default', resourceVersion: String(head), allowWatchBookmarks: true }, (e) => events.push(e), () => (ended = true));
    await c.create(configmaps, 'default', cm('w3'));
    await eventually(() => events.some((e) => e.type === 'ADDED' && e.object.metadata.name === 'w3'), 'the ADDED event');
    await eventually(() => events.some((e) => e.type === 'BOOKMARK'), 'a bookmark', 10_000);
    expect(events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${e.object.metadata.name}`)).toEqual(['ADDED w3']);
    stop();
    expect(ended).toBe(false);
  });

  it('keeps informers in sync, relisting after 410', async () => {
    const c = client((await start()).loopbackConnection());
    await c.create(configmaps, 'default', cm('keep'));
    await c.create(configmaps, 'default', cm('gone'));
    const informer = new Informer(c, configmaps, { backoffMs: 10 });
    informers.push(informer);
    const deleted: string[] = [];
    informer.addHandlers({ onDelete: (o) => deleted.push(o.metadata.name ?? '') });
    informer.start();
    await informer.waitForSync();
    informer.stop();
    await c.delete(configmaps, 'default', 'gone');
    await c.create(configmaps, 'default', cm('new'));
    await store!.compact(Number((await c.list(configmaps)).metadata.resourceVersion));
    informer.start();
    await eventually(() => informer.list().some((o) => o.metadata.name === 'new'), 'relisted');
    expect(informer.list().map((o) => o.metadata.name).sort()).toEqual(['keep', 'new']);
    expect(deleted).toEqual(['gone']);
    await c.update(configmaps, { ...cm('keep', { after: 'relist' }) });
    await eventually(() => (informer.get('default/keep')?.data as Record<string, string> | undefined)?.after === 'relist', 'the update after the relist');
  });

  it("ends the client's watches when the server closes, and refuses connections after", async () => {
    const s = await start();
    const c = client(s.loopbackConnection());
    let endedWith: Error | undefined | 'open' = 'open';
    await c.watch(configmaps, { namespace: 'default' }, () => undefined, (err) => (endedWith = err));
    await s.close();
    await eventually(() => endedWith !== 'open', 'the watch to end');
    const err = await c.list(configmaps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ApiStatusError);
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('hands requests to the server as objects (no HTTP connection), with the same statuses, bodies and request metrics', async () => {
    store = new MemoryStore();
    const metrics = new Registry();
    server = new ApiServer({ store, logger: silentLogger(), metrics, authenticate: staticTokenAuthenticator([]), authorizer: createStorageAuthorizer(new ObjectStorage(store)) });
    await ensureBootstrapPolicy(server.storage);
    const conn = server.loopbackConnection();
    let connections = 0;
    const c = client({ ...conn, connect: () => (connections++, conn.connect!()) });
    const created = await c.create(configmaps, 'default', cm('x', { k: 'v' }));
    expect(created).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' }, data: { k: 'v' } });
    // Errors are the server's Status, as over HTTP.
    const missing = await c.get(configmaps, 'default', 'nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiStatusError);
    expect(missing).toMatchObject({ code: 404, reason: 'NotFound', message: 'configmaps "nope" not found' });
    const exists = await c.create(configmaps, 'default', cm('x')).catch((e: unknown) => e);
    expect(exists).toMatchObject({ code: 409, reason: 'AlreadyExists' });
    const invalid = await c.create(configmaps, 'default', cm('Not_A_Name')).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ code: 422, reason: 'Invalid' });
    const events: WatchEvent[] = [];
    const stop = await c.watch(configmaps, { namespace: 'default', resourceVersion: created.metadata.resourceVersion }, (e) => events.push(e), () => undefined);
    await c.patch(configmaps, 'default', 'x', { data: { k: 'w' } });
    await eventually(() => events.length > 0, 'the MODIFIED event');
    expect(events.map((e) => `${e.type} ${String((e.object.data as Record<string, string>).k)}`)).toEqual(['MODIFIED w']);
    stop();
    expect(connections).toBe(0);
    // Each request is counted by the request metrics as any other, under its verb and code.
    const text = await metrics.metrics();
    expect(text).toMatch(/apiserver_request_total\{[^}]*verb="POST"[^}]*code="201"[^}]*\} 1/);
    expect(text).toMatch(/apiserver_request_total\{[^}]*verb="GET"[^}]*code="404"[^}]*\} 1/);
    expect(text).toMatch(/apiserver_request_total\{[^}]*verb="POST"[^}]*code="409"[^}]*\} 1/);
  });

  it('keeps at most 32 requests of one client in flight, open watches included, as its HTTP agent did', async () => {
    const c = client((await start()).loopbackConnection());
    const stops = await Promise.all(Array.from({ length: 32 }, () => c.watch(configmaps, { namespace: 'default' }, () => undefined, () => undefined)));
    let answered = false;
    const listed = c.list(configmaps).then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(answered).toBe(false);
    stops[0]?.();
    await listed;
    expect(answered).toBe(true);
    for (const stop of stops.slice(1)) stop();
    // Another client has places of its own.
    expect((await client((server as ApiServer).loopbackConnection()).list(configmaps)).items).toEqual([]);
  });

  it('sends what a kubelet would stream (logs, the node proxy) over its HTTP connection', async () => {
    const s = await start();
    const conn = s.loopbackConnection();
    let connections = 0;
    const c = client({ ...conn, connect: () => (connections++, conn.connect!()) });
    const err = await c.get({ group: '', version: 'v1', resource: 'pods' }, 'default', 'p', 'log').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 404 });
    expect(connections).toBe(1);
  });

  it('ends the server side of a watch the client stops', async () => {
    const s = await start();
    const c = client(s.loopbackConnection());
    const stop = await c.watch(configmaps, { namespace: 'default' }, () => undefined, () => undefined);
    const watching = (s as unknown as { watches: Set<unknown> }).watches;
    await eventually(() => watching.size === 1, 'the server to hold the watch');
    stop();
    await eventually(() => watching.size === 0, 'the server to drop the watch');
  });
});

describe('loopback socket pair', () => {
  it('delivers in order with backpressure, ends like TCP (FIN, then both sides close), and fails writes to a destroyed peer', async () => {
    const [a, b] = loopbackPair();
    const closed = Promise.all([new Promise((r) => a.once('close', r)), new Promise((r) => b.once('close', r))]);
    const received: Buffer[] = [];
    const chunks = Array.from({ length: 100 }, (_, i) => Buffer.alloc(10_000, i));
    for (const chunk of chunks) a.write(chunk);
    a.end();
    // Nothing read yet: the writer is held back rather than buffering all of it on the reader's side.
    await new Promise((r) => setImmediate(r));
    expect(b.readableLength).toBeLessThan(200_000);
    b.on('data', (d: Buffer) => received.push(d));
    // The writer reads too (as HTTP always does), so it sees the reader's FIN that answers its own.
    a.resume();
    await new Promise<void>((r) => b.once('end', () => r()));
    expect(Buffer.concat(received).equals(Buffer.concat(chunks))).toBe(true);
    await closed;
    const [c, d] = loopbackPair();
    d.destroy();
    const err = await new Promise<NodeJS.ErrnoException>((r) => {
      c.once('error', r);
      c.write('after');
    });
    expect(err.code).toBe('EPIPE');
  });
});
