import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCerts {
  readonly dir: string;
  readonly caFile: string;
  /** Server certificate for 127.0.0.1 / localhost; also usable as a client certificate (both key usages). */
  readonly certFile: string;
  readonly keyFile: string;
  /** A client certificate signed by the same CA. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  remove(): Promise<void>;
}

/** A throwaway CA with a server and a client certificate, made with the openssl CLI. */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-test-certs-'));
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  try {
    await openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=skiff-test-ca',
      '-keyout', f('ca.key'), '-out', f('ca.crt'));
    await writeFile(
      f('ext.cnf'),
      [
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        'extendedKeyUsage=serverAuth,clientAuth',
        'keyUsage=digitalSignature,keyEncipherment',
        '',
      ].join('\n'),
    );
    for (const name of ['server', 'client']) {
      await openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=skiff-test-${name}`,
        '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
      await openssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'),
        '-CAcreateserial', '-days', '2', '-extfile', f('ext.cnf'), '-out', f(`${name}.crt`));
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    caFile: f('ca.crt'),
    certFile: f('server.crt'),
    keyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
