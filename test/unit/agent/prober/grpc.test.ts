import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbeExecutor } from '../../../../agent/prober/executor.js';
import { decodeHealthCheckResponse, encodeHealthCheckRequest } from '../../../../agent/prober/grpc.js';

/** HealthCheckResponse{status} as a length-prefixed gRPC message. */
function response(status: number): Buffer {
  const body = status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, status]);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(body.length, 1);
  return Buffer.concat([frame, body]);
}

/** The service name in a HealthCheckRequest frame. */
function serviceOf(frame: Buffer): string {
  const body = frame.subarray(5);
  return body.length === 0 ? '' : body.subarray(2, 2 + body[1]!).toString('utf8');
}

let server: http2.Http2Server;
let port: number;
const asked: Array<{ service: string; ua: string | undefined }> = [];

beforeAll(async () => {
  server = http2.createServer();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const service = serviceOf(Buffer.concat(chunks));
      asked.push({ service, ua: headers['user-agent'] });
      if (headers[':path'] !== '/grpc.health.v1.Health/Check' || service === 'unimplemented') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '12' }, { endStream: true });
        return;
      }
      if (service === 'slow') return;
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(response(service === 'down' ? 2 : 1));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

describe('grpc probe', () => {
  const ex = createProbeExecutor({ exec: () => Promise.reject(new Error('unused')) });

  it('round-trips the protobuf messages', () => {
    expect(serviceOf(encodeHealthCheckRequest('svc'))).toBe('svc');
    expect(encodeHealthCheckRequest('')).toEqual(Buffer.alloc(5));
    expect(decodeHealthCheckResponse(response(2).subarray(5))).toBe(2);
    expect(decodeHealthCheckResponse(Buffer.alloc(0))).toBe(0);
  });

  it('succeeds on SERVING and sends the service and User-Agent', async () => {
    asked.length = 0;
    expect(await ex.grpc!('127.0.0.1', port, 'api', 2000)).toEqual({ result: 'success', output: 'service healthy' });
    expect(asked).toEqual([{ service: 'api', ua: expect.stringMatching(/^kube-probe\//) }]);
  });

  it('fails on NOT_SERVING, on servers without the health service, on timeouts and on refusals', async () => {
    expect(await ex.grpc!('127.0.0.1', port, 'down', 2000)).toMatchObject({ result: 'failure', output: expect.stringContaining('NOT_SERVING') });
    expect(await ex.grpc!('127.0.0.1', port, 'unimplemented', 2000)).toMatchObject({
      result: 'failure',
      output: expect.stringContaining('does not implement'),
    });
    expect(await ex.grpc!('127.0.0.1', port, 'slow', 200)).toMatchObject({ result: 'failure', output: expect.stringContaining('timeout') });
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const closed = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    expect(await ex.grpc!('127.0.0.1', closed, '', 2000)).toMatchObject({ result: 'failure', output: expect.stringContaining('ECONNREFUSED') });
  });
});
