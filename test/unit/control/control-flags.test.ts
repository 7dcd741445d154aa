import { afterEach, describe, expect, it, vi } from 'vitest';
import { runControl, storageBackend } from '../../../control/main.js';

/** Flag errors that `skiff control` answers before it starts anything: exit code 2 and upstream's message. */
describe('skiff control flags', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const run = async (args: string[]): Promise<{ code: number; stderr: string }> => {
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    });
    const code = await runControl(args);
    return { code, stderr };
  };

  it('refuses --secure-port 0 as kube-apiserver does', async () => {
    const r = await run(['--secure-port', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--secure-port 0 must be between 1 and 65535, inclusive. It cannot be turned off with 0');
  });

  it('refuses --storage values that do not fit --etcd-servers, before starting anything', async () => {
    expect(await run(['--storage', 'etcd'])).toEqual({ code: 2, stderr: 'skiff control: --storage etcd needs --etcd-servers (comma-separated etcd client URLs)\n' });
    expect(await run(['--storage', 'embedded', '--etcd-servers', 'http://127.0.0.1:2379'])).toEqual({ code: 2, stderr: 'skiff control: --storage embedded and --etcd-servers exclude each other\n' });
    expect(await run(['--storage', 'bolt'])).toEqual({ code: 2, stderr: 'skiff control: --storage: expected embedded or etcd, got "bolt"\n' });
  });

  it("refuses the embedded store's timing and snapshot flags when they are not positive whole numbers, or the election timeout is under two heartbeats", async () => {
    expect(await run(['--heartbeat-interval', 'abc'])).toEqual({ code: 2, stderr: 'skiff control: --heartbeat-interval: expected a number of milliseconds such as 100, got "abc"\n' });
    expect(await run(['--snapshot-count', '0'])).toEqual({ code: 2, stderr: 'skiff control: --snapshot-count: expected a number of entries such as 10000, got "0"\n' });
    expect(await run(['--election-timeout', '150'])).toEqual({ code: 2, stderr: 'skiff control: --election-timeout (150 ms) must be at least twice --heartbeat-interval (100 ms)\n' });
  });

  it("refuses --kube-api-qps and --kube-api-burst values kube-controller-manager would not take", async () => {
    expect(await run(['--kube-api-qps', 'fast'])).toEqual({ code: 2, stderr: 'skiff control: --kube-api-qps: expected a number such as 20, got "fast"\n' });
    expect(await run(['--kube-api-burst=-3'])).toEqual({ code: 2, stderr: 'skiff control: --kube-api-burst: expected a whole number such as 30, got "-3"\n' });
    expect(await run(['--kube-api-qps', '10', '--kube-api-burst', '0'])).toEqual({ code: 2, stderr: 'skiff control: --kube-api-burst: must be at least 1 while --kube-api-qps is not negative\n' });
  });

  it('refuses a port out of range or not a number', async () => {
    expect((await run(['--secure-port', '70000'])).stderr).toContain('--secure-port 70000 must be between 1 and 65535');
    const notNumber = await run(['--secure-port', 'https']);
    expect(notNumber.code).toBe(2);
    expect(notNumber.stderr).toContain('--secure-port: expected a port number, got "https"');
  });

  it('picks the backend: etcd when --etcd-servers names servers (with or without --storage etcd), else embedded', () => {
    expect(storageBackend(undefined, undefined)).toEqual({ backend: 'embedded' });
    expect(storageBackend(undefined, 'http://127.0.0.1:2379,http://127.0.0.1:22379')).toEqual({ backend: 'etcd' });
    expect(storageBackend('etcd', 'http://127.0.0.1:2379')).toEqual({ backend: 'etcd' });
    expect(storageBackend('embedded', undefined)).toEqual({ backend: 'embedded' });
    expect(storageBackend(undefined, ' , ')).toEqual({ backend: 'embedded' });
  });
});
