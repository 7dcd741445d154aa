import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLUSTER_ID, hexId, MEMBER_ID, startHarness, type Harness, type Result } from './helpers.js';

/**
 * Debian's etcdctl 3.4 (ETCDCTL_API=3) against Skiff's etcd API over a MemoryStore. Expected outputs are what the
 * same etcdctl prints against etcd 3.4.
 */
let h: Harness;
/** ETCDAPI_TEST_ENDPOINT=host:port runs the suite against that (real, fresh) etcd instead, to check expectations. */
const h_external = process.env.ETCDAPI_TEST_ENDPOINT !== undefined;

beforeAll(async () => {
  h = await startHarness(process.env.ETCDAPI_TEST_ENDPOINT);
});

afterAll(async () => {
  await h?.close();
});

async function ok(args: readonly string[], input?: string): Promise<string> {
  const r = await h.etcdctl(args, input);
  if (r.code !== 0) throw new Error(`etcdctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function json(args: readonly string[]): Promise<any> {
  return JSON.parse(await ok([...args, '-w', 'json']));
}

/** The store's revision, asked over the API (so the suite can also run against a real etcd). */
async function revision(): Promise<number> {
  return (await json(['get', '/no-such-key'])).header.revision;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('KV', () => {
  test('put and get', async () => {
    expect(await ok(['put', '/kv/a', 'alpha'])).toBe('OK\n');
    expect(await ok(['get', '/kv/a'])).toBe('/kv/a\nalpha\n');
    expect(await ok(['get', '/kv/missing'])).toBe('');
    expect(await ok(['get', '/kv/a', '--print-value-only'])).toBe('alpha\n');
  });

  test('get --prefix, with revisions in -w json', async () => {
    const before = (await revision());
    await ok(['put', '/p/1', 'one']);
    await ok(['put', '/p/2', 'two']);
    await ok(['put', '/p/1', 'uno']);
    await ok(['put', '/q', 'outside']);
    expect(await ok(['get', '/p/', '--prefix'])).toBe('/p/1\nuno\n/p/2\ntwo\n');

    const text = await ok(['get', '/p/', '--prefix', '-w', 'json']);
    // 64-bit ids exceed JSON numbers' precision in JavaScript: check them in the text.
    if (!h_external) expect(text).toContain(`"cluster_id":${CLUSTER_ID},"member_id":${MEMBER_ID},`);
    const r = JSON.parse(text);
    expect(r.header.revision).toBe(before + 4);
    expect(r.count).toBe(2);
    expect(r.kvs).toEqual([
      { key: b64('/p/1'), create_revision: before + 1, mod_revision: before + 3, version: 2, value: b64('uno') },
      { key: b64('/p/2'), create_revision: before + 2, mod_revision: before + 2, version: 1, value: b64('two') },
    ]);
  });

  test('get options: keys-only, limit, sort, rev, from-key, range end', async () => {
    await ok(['put', '/s/a', '3']);
    const afterA = (await revision());
    await ok(['put', '/s/b', '1']);
    await ok(['put', '/s/c', '2']);
    expect(await ok(['get', '/s/', '--prefix', '--keys-only'])).toBe('/s/a\n\n/s/b\n\n/s/c\n\n');
    const limited = await json(['get', '/s/', '--prefix', '--limit=2']);
    expect(limited.kvs.map((kv: any) => kv.key)).toEqual([b64('/s/a'), b64('/s/b')]);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(3);
    expect(await ok(['get', '/s/', '--prefix', '--sort-by=VALUE', '--print-value-only'])).toBe('1\n2\n3\n');
    expect(await ok(['get', '/s/', '--prefix', '--order=DESCEND', '--keys-only'])).toBe('/s/c\n\n/s/b\n\n/s/a\n\n');
    expect(await ok(['get', '/s/', '--prefix', '--sort-by=MODIFY', '--order=DESCEND', '--limit=1'])).toBe('/s/c\n2\n');
    expect(await ok(['get', '/s/', '--prefix', `--rev=${afterA}`])).toBe('/s/a\n3\n');
    expect(await ok(['get', '/s/b', '/s/c'])).toBe('/s/b\n1\n');
    expect(await ok(['get', '/s/b', '--from-key', '--keys-only', '--limit=2'])).toBe('/s/b\n\n/s/c\n\n');
  });

  test('non-ASCII keys and prefixes whose end is not UTF-8', async () => {
    await ok(['put', '/ü/¿', 'x']);
    await ok(['put', '/ü/¿a', 'y']);
    await ok(['put', '/ü/À', 'z']);
    // The prefix ends in C2 BF: clientv3's range end ends in C2 C0, not UTF-8.
    expect(await ok(['get', '/ü/¿', '--prefix', '--print-value-only'])).toBe('x\ny\n');
    expect(await ok(['get', '/ü/', '--prefix', '--print-value-only'])).toBe('x\ny\nz\n');
  });

  test.skipIf(h_external)('non-UTF-8 keys are refused clearly', async () => {
    // etcdctl's txn syntax takes hex escapes in quoted strings: a key that is the single byte 0xff.
    const t = await h.etcdctl(['txn'], '\nput "\\xff" "v"\n\n\n');
    expect(t.code).not.toBe(0);
    expect(t.stderr).toContain('key is not valid UTF-8');
  });

  test('del, del --prefix, del --prev-kv', async () => {
    await ok(['put', '/d/1', 'a']);
    await ok(['put', '/d/2', 'b']);
    await ok(['put', '/d/3', 'c']);
    await ok(['put', '/e', 'e']);
    expect(await ok(['del', '/d/1'])).toBe('1\n');
    expect(await ok(['del', '/d/1'])).toBe('0\n');
    expect(await ok(['del', '/d/', '--prefix', '--prev-kv'])).toBe('2\n/d/2\nb\n/d/3\nc\n');
    expect(await ok(['get', '/d/', '--prefix'])).toBe('');
    expect(await ok(['get', '/e'])).toBe('/e\ne\n');
  });

  test('txn from stdin: success and failure branches', async () => {
    await ok(['put', '/t/k1', 'v1']);
    const success = await ok(
      ['txn'],
      ['mod("/t/k1") > "0"', 'value("/t/k1") = "v1"', '', 'put /t/k2 "yes"', 'get /t/k1', '', 'put /t/k2 "no"', '', ''].join(
        '\n',
      ),
    );
    expect(success).toBe('SUCCESS\n\nOK\n\n/t/k1\nv1\n');
    expect(await ok(['get', '/t/k2', '--print-value-only'])).toBe('yes\n');

    const failure = await ok(
      ['txn'],
      ['value("/t/k1") = "nope"', 'version("/t/k2") = "1"', '', 'put /t/k2 "yes2"', '', 'put /t/k2 "no"', 'del /t/k1', '', ''].join(
        '\n',
      ),
    );
    expect(failure).toBe('FAILURE\n\nOK\n\n1\n');
    expect(await ok(['get', '/t/', '--prefix'])).toBe('/t/k2\nno\n');

    const rev = (await revision());
    const j = JSON.parse(
      await ok(['txn', '-w', 'json'], ['create("/t/k2") > "0"', '', 'put /t/k3 "x"', 'del /t/k2', '', '', ''].join('\n')),
    );
    expect(j.succeeded).toBe(true);
    expect(j.header.revision).toBe(rev + 1);
    expect(j.responses).toEqual([
      { Response: { ResponsePut: { header: expect.objectContaining({ revision: rev + 1 }) } } },
      { Response: { ResponseDeleteRange: { header: expect.objectContaining({ revision: rev + 1 }), deleted: 1 } } },
    ]);
  });

  test('txn errors carry etcd messages', async () => {
    const dup = await h.etcdctl(['txn'], '\nput /t/dup "1"\nput /t/dup "2"\n\n\n');
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toContain('Error: etcdserver: duplicate key given in txn request');
  });
});

describe('watch', () => {
  /** Writes a marker until the watch shows it: only then is the watch surely established. */
  async function established(w: ReturnType<Harness['spawnEtcdctl']>, key: string): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await ok(['put', key, `marker-${i}`]);
      try {
        await w.waitForLines(3, 200);
        return;
      } catch {
        // not yet
      }
    }
    throw new Error(`watch never showed ${key}: ${w.stderr()}`);
  }

  test('watch --prefix sees puts and deletes as they happen', async () => {
    const w = h.spawnEtcdctl(['watch', '/w/', '--prefix']);
    try {
      await established(w, '/w/marker');
      w.lines.splice(0);
      await ok(['put', '/w/a', '1']);
      await ok(['txn'], '\nput /w/b "2"\nput /w/c "3"\n\n\n');
      await ok(['del', '/w/a']);
      await ok(['put', '/x/outside', 'no']);
      const lines = await w.waitForLines(12);
      expect(lines).toEqual(['PUT', '/w/a', '1', 'PUT', '/w/b', '2', 'PUT', '/w/c', '3', 'DELETE', '/w/a', '']);
    } finally {
      w.kill();
      await w.exited;
    }
  });

  test('watch --prev-kv on one key', async () => {
    await ok(['put', '/wp/k', 'old']);
    const w = h.spawnEtcdctl(['watch', '/wp/k', '--prev-kv']);
    try {
      await established(w, '/wp/k');
      w.lines.splice(0);
      await ok(['put', '/wp/k', 'new']);
      // With prev_kv, etcdctl prints the event, then the previous kv.
      const lines = await w.waitForLines(5);
      expect(lines[0]).toBe('PUT');
      expect(lines.slice(1, 5)).toEqual(['/wp/k', expect.stringMatching(/^marker-\d+$/), '/wp/k', 'new']);
    } finally {
      w.kill();
      await w.exited;
    }
  });

  test('watch --rev replays history from the past', async () => {
    const start = (await revision()) + 1;
    await ok(['put', '/h/1', 'a']);
    await ok(['put', '/h/2', 'b']);
    await ok(['del', '/h/1']);
    const w = h.spawnEtcdctl(['watch', '/h/', '--prefix', `--rev=${start}`]);
    try {
      const lines = await w.waitForLines(9);
      expect(lines).toEqual(['PUT', '/h/1', 'a', 'PUT', '/h/2', 'b', 'DELETE', '/h/1', '']);
    } finally {
      w.kill();
      await w.exited;
    }
  });

  test('watch -w json shows revisions and ids', async () => {
    const start = (await revision()) + 1;
    await ok(['put', '/wj/k', 'v']);
    const w = h.spawnEtcdctl(['watch', '/wj/k', `--rev=${start}`, '-w', 'json']);
    try {
      const [line] = await w.waitForLines(1);
      const resp = JSON.parse(line!);
      expect(resp.Header.revision).toBe(start);
      expect(resp.Events).toEqual([
        { kv: { key: b64('/wj/k'), create_revision: start, mod_revision: start, version: 1, value: b64('v') } },
      ]);
    } finally {
      w.kill();
      await w.exited;
    }
  });
});

test.skipIf(h_external)('killed watchers leave no watch behind on the server', async () => {
  const deadline = Date.now() + 5000;
  while (h.server!.stats().watches > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(h.server!.stats()).toMatchObject({ watchStreams: 0, watches: 0 });
});

describe('lease', () => {
  test('grant, put --lease, timetolive --keys, list, keep-alive --once, revoke', async () => {
    const granted = await ok(['lease', 'grant', '60']);
    const m = /^lease ([0-9a-f]{16}) granted with TTL\(60s\)\n$/.exec(granted);
    expect(m).not.toBeNull();
    const id = m![1]!;
    expect(await ok(['put', '--lease=' + id, '/l/k', 'v'])).toBe('OK\n');
    expect(await ok(['lease', 'timetolive', '--keys', id])).toMatch(
      new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached keys\\(\\[/l/k\\]\\)\\n$`),
    );
    expect(await ok(['lease', 'list'])).toContain(`${id}\n`);
    expect(await ok(['lease', 'list'])).toMatch(/^found \d+ leases\n/);
    expect(await ok(['lease', 'keep-alive', '--once', id])).toBe(`lease ${id} keepalived with TTL(60)\n`);
    const ttl = await json(['lease', 'timetolive', id]);
    expect(ttl.ttl).toBeGreaterThanOrEqual(59);
    expect(ttl['granted-ttl']).toBe(60);

    expect(await ok(['lease', 'revoke', id])).toBe(`lease ${id} revoked\n`);
    expect(await ok(['get', '/l/k'])).toBe('');
    expect(await ok(['lease', 'timetolive', id])).toBe(`lease ${id} already expired\n`);
  });

  test('unknown leases fail as in etcd', async () => {
    const unknown = hexId(0x7777);
    const revoke = await h.etcdctl(['lease', 'revoke', unknown]);
    expect(revoke.code).not.toBe(0);
    expect(revoke.stderr).toContain('Error: failed to revoke lease (etcdserver: requested lease not found)');
    const keep = await h.etcdctl(['lease', 'keep-alive', '--once', unknown]);
    expect(keep.code).not.toBe(0);
    expect(keep.stderr).toContain('etcdserver: requested lease not found');
    const put = await h.etcdctl(['put', '--lease=' + unknown, '/l/x', 'v']);
    expect(put.code).not.toBe(0);
    expect(put.stderr).toContain('Error: etcdserver: requested lease not found');
  });

  test('keep-alive (streaming) keeps a short lease alive', async () => {
    const granted = await ok(['lease', 'grant', '2']);
    const id = /^lease ([0-9a-f]{16})/.exec(granted)![1]!;
    await ok(['put', '--lease=' + id, '/l/short', 'v']);
    const k = h.spawnEtcdctl(['lease', 'keep-alive', id]);
    try {
      await k.waitForLines(1);
      expect(k.lines[0]).toBe(`lease ${id} keepalived with TTL(2)`);
      await new Promise((r) => setTimeout(r, 3000));
      expect(await ok(['get', '/l/short', '--print-value-only'])).toBe('v\n');
      expect(k.lines.length).toBeGreaterThan(1);
    } finally {
      k.kill();
      await k.exited;
    }
  });
});

test('lock (clientv3 concurrency: lease, txn, watch) runs a command while holding the lock', async () => {
  expect(await ok(['lock', '/locks/one', '--', 'echo', 'locked'])).toBe('locked\n');
});

describe.skipIf(h_external)('cluster and maintenance', () => {
  test('member list', async () => {
    expect(await ok(['member', 'list'])).toBe(
      `${MEMBER_ID.toString(16)}, started, skiff-1, http://127.0.0.1:2380, http://127.0.0.1:2379, false\n`,
    );
    const text = await ok(['member', 'list', '-w', 'json']);
    expect(text).toContain(`"ID":${MEMBER_ID},"name":"skiff-1","peerURLs":["http://127.0.0.1:2380"]`);
  });

  test('endpoint status -w json and endpoint health', async () => {
    const text = await ok(['endpoint', 'status', '-w', 'json']);
    expect(text).toContain(`"leader":${MEMBER_ID},`);
    expect(text).toContain(`"cluster_id":${CLUSTER_ID},`);
    const [entry] = JSON.parse(text);
    expect(entry.Endpoint).toBe(h.endpoint);
    expect(entry.Status.version).toBe('3.4.0-skiff');
    expect(entry.Status.header.revision).toBe((await revision()));
    expect(entry.Status.raftTerm).toBe(1);
    expect(entry.Status.dbSize).toBe(4096);
    const health: Result = await h.etcdctl(['endpoint', 'health']);
    expect(health.code).toBe(0);
    expect(health.stderr).toContain(`${h.endpoint} is healthy`);
    expect(await ok(['alarm', 'list'])).toBe('');
  });
});

describe('compaction', () => {
  test('compaction, then reads and watches below it fail with etcd’s error', async () => {
    await ok(['put', '/c/k', 'v1']);
    const old = (await revision());
    await ok(['put', '/c/k', 'v2']);
    const now = (await revision());
    expect(await ok(['compaction', String(now)])).toBe(`compacted revision ${now}\n`);

    const get = await h.etcdctl(['get', '/c/k', `--rev=${old}`]);
    expect(get.code).not.toBe(0);
    expect(get.stderr).toContain('Error: etcdserver: mvcc: required revision has been compacted');
    expect(await ok(['get', '/c/k', `--rev=${now}`, '--print-value-only'])).toBe('v2\n');

    const again = await h.etcdctl(['compaction', String(now)]);
    expect(again.stderr).toContain('Error: etcdserver: mvcc: required revision has been compacted');
    const future = await h.etcdctl(['get', '/c/k', `--rev=${now + 1000}`]);
    expect(future.stderr).toContain('Error: etcdserver: mvcc: required revision is a future revision');

    const w = h.spawnEtcdctl(['watch', '/c/k', `--rev=${old}`]);
    const code = await w.exited;
    expect(code).not.toBe(0);
    expect(w.lines.join('\n') + w.stderr()).toContain('watch was canceled (etcdserver: mvcc: required revision has been compacted)');
  });
});
