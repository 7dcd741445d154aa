import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProbeExecutor } from '../../../../agent/prober/executor.js';

/** A throwaway self-signed certificate, or undefined when openssl is not installed. */
function selfSigned(): { key: Buffer; cert: Buffer } | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-probe-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=probe'], {
      cwd: dir,
      stdio: 'ignore',
    });
    return { key: fs.readFileSync(path.join(dir, 'k.pem')), cert: fs.readFileSync(path.join(dir, 'c.pem')) };
  } catch {
    return undefined;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const tls = selfSigned();

describe('httpGet over HTTPS', () => {
  it.skipIf(!tls)('skips certificate verification, as upstream does', async () => {
    const server = https.createServer(tls!, (_req, res) => res.end('tls ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const ex = createProbeExecutor({ exec: () => Promise.reject(new Error('unused')) });
      const { port } = server.address() as AddressInfo;
      expect(await ex.httpGet(`https://127.0.0.1:${port}/`, [], 2000)).toEqual({ result: 'success', statusCode: 200, output: 'tls ok' });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
