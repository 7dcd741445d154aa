/**
 * gRPC health probes (upstream pkg/probe/grpc) without a gRPC library: one grpc.health.v1.Health/Check call over
 * plaintext HTTP/2, with the two tiny protobuf messages encoded by hand. Upstream also dials without TLS.
 */
import http2 from 'node:http2';
import type { ExecutorResult } from './executor.js';

const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';
/** grpc.health.v1.HealthCheckResponse.ServingStatus names, for messages. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
const GRPC_UNIMPLEMENTED = 12;

/** A length-prefixed gRPC message carrying HealthCheckRequest{service} (field 1, string). */
export function encodeHealthCheckRequest(service: string): Buffer {
  const svc = Buffer.from(service, 'utf8');
  const body = svc.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(svc.length), svc]);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(body.length, 1);
  return Buffer.concat([frame, body]);
}

/** The ServingStatus in a HealthCheckResponse message (after the 5-byte prefix); 0 (UNKNOWN) when absent. */
export function decodeHealthCheckResponse(message: Buffer): number {
  let i = 0;
  while (i < message.length) {
    const [key, afterKey] = readVarint(message, i);
    const field = key >>> 3;
    const wire = key & 7;
    if (wire === 0) {
      const [value, next] = readVarint(message, afterKey);
      if (field === 1) return value;
      i = next;
    } else if (wire === 2) {
      const [len, next] = readVarint(message, afterKey);
      i = next + len;
    } else if (wire === 5) {
      i = afterKey + 4;
    } else if (wire === 1) {
      i = afterKey + 8;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
  return 0;
}

export function grpcProbe(host: string, port: number, service: string, timeoutMs: number, userAgent: string): Promise<ExecutorResult> {
  const authority = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve) => {
    let settled = false;
    const session = http2.connect(authority);
    const settle = (r: ExecutorResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => {
      settle({ result: 'failure', output: `timeout: health rpc did not complete within ${timeoutMs}ms` });
    }, timeoutMs);
    session.on('error', (err) =>
      settle({ result: 'failure', output: `error: failed to connect service at "${host}:${port}": ${err.message}` }),
    );
    const req = session.request({
      ':method': 'POST',
      ':path': HEALTH_CHECK_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': userAgent,
      'grpc-timeout': `${Math.max(1, timeoutMs)}m`,
    });
    const chunks: Buffer[] = [];
    let headerStatus: string | undefined;
    req.on('response', (headers) => {
      const s = headers['grpc-status'];
      if (typeof s === 'string') headerStatus = s;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('trailers', (trailers) => {
      const s = trailers['grpc-status'];
      if (typeof s === 'string') headerStatus = s;
    });
    req.on('error', (err) => settle({ result: 'failure', output: `error: health rpc probe failed: ${err.message}` }));
    req.on('end', () => {
      const code = Number(headerStatus ?? '2');
      if (code === GRPC_UNIMPLEMENTED) {
        settle({ result: 'failure', output: 'this server does not implement the grpc health protocol (grpc.health.v1.Health)' });
        return;
      }
      if (code !== 0) {
        settle({ result: 'failure', output: `error: health rpc probe failed: grpc-status ${code}` });
        return;
      }
      const body = Buffer.concat(chunks);
      let status: number;
      try {
        if (body.length < 5) throw new Error('empty response');
        status = decodeHealthCheckResponse(body.subarray(5, 5 + body.readUInt32BE(1)));
      } catch (err) {
        settle({ result: 'failure', output: `error: health rpc probe failed: ${(err as Error).message}` });
        return;
      }
      if (status === 1) settle({ result: 'success', output: 'service healthy' });
      else settle({ result: 'failure', output: `service unhealthy (responded with "${SERVING_STATUS[status] ?? status}")` });
    });
    req.end(encodeHealthCheckRequest(service));
  });
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}

function readVarint(buf: Buffer, start: number): [number, number] {
  let result = 0;
  let shift = 0;
  let i = start;
  for (;;) {
    if (i >= buf.length || shift > 28) throw new Error('truncated protobuf varint');
    const b = buf[i++]!;
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result >>> 0, i];
    shift += 7;
  }
}
