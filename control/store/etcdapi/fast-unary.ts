import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';

/**
 * A lean path for the hot unary KV calls (Range, Put, DeleteRange, Txn), in front of grpc-js on the same HTTP/2
 * server: each such stream is answered here straight over node:http2, everything else goes on to grpc-js unchanged.
 *
 * Why: per unary call grpc-js builds Metadata objects from the headers, an intercepting call, a stream decoder and a
 * deadline timer, and it sends the trailers only once the write of the response message has completed (its unary
 * path waits for the write callback), one event-loop turn after the data. For a sequential put on one member that
 * was about a tenth of a millisecond of a 0.8 ms round trip. Here the response is written together with the end of
 * the stream, so node's HTTP/2 asks for the trailers as soon as nghttp2 has taken the data.
 *
 * What a client sees is what grpc-js would answer, for the cases this path takes: the same response headers, the
 * same status codes and messages (trailers-only responses for errors), grpc-timeout deadlines (DEADLINE_EXCEEDED
 * "Deadline exceeded"), the receive size limit (RESOURCE_EXHAUSTED "Received message larger than max (N vs M)"),
 * no or two request messages (UNIMPLEMENTED), bytes that do not decode (INTERNAL). A request this
 * path does not take on: another method, a content-type that is not application/grpc, a grpc-encoding other than
 * identity (compressed requests, which grpc-js decompresses), a grpc-timeout header grpc-js would reject.
 *
 * Hooking in: grpc-js has no public way to see a stream before its own handler does, so this replaces the 'stream'
 * listeners of grpc-js's HTTP/2 servers (`http2Servers`, an internal field) with one that passes every stream it
 * does not take to them. Should a grpc-js upgrade drop that field, install() finds nothing to hook and everything
 * is served by grpc-js as before (the etcd API tests check that this path is in use).
 */

export interface FastUnaryMethod {
  /** The protobuf (de)serialisers grpc-js uses for this method (from the service definition). */
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly serialize: (value: unknown) => Buffer;
  /** Runs the call; rejects with a grpc status error (code, details) as grpc-js handlers pass to their callback. */
  readonly run: (request: unknown) => Promise<unknown>;
}

export interface FastUnaryOptions {
  /** grpc.max_receive_message_length as given to grpc-js (-1: unlimited). */
  readonly maxReceiveMessageLength: number;
  /** grpc.max_send_message_length as given to grpc-js (-1: unlimited). */
  readonly maxSendMessageLength: number;
}

export interface FastUnaryStats {
  /** Calls this path answered. */
  calls: number;
}

const RESPONSE_HEADERS: http2.OutgoingHttpHeaders = {
  ':status': 200,
  'content-type': 'application/grpc+proto',
  // As grpc-js: it advertises these and answers uncompressed.
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
};
const OK_TRAILERS: http2.OutgoingHttpHeaders = { 'grpc-status': grpc.status.OK, 'grpc-message': 'OK' };
const RESPOND_OPTIONS: http2.ServerStreamResponseOptions = { waitForTrailers: true };
const ERROR_OPTIONS: http2.ServerStreamResponseOptions = { endStream: true };

/** grpc-js's grpc-timeout grammar and units: what it accepts this path accepts, the rest goes to grpc-js. */
const TIMEOUT_RE = /(\d{1,8})\s*([HMSmun])/;
const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

function timeoutMs(header: string | string[] | undefined): number | undefined | 'invalid' {
  if (header === undefined) return undefined;
  const m = TIMEOUT_RE.exec(String(header));
  if (m === null) return 'invalid';
  return (Number(m[1]) * (TIMEOUT_UNIT_MS[m[2]!] ?? 0)) | 0;
}

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: unknown) => void;

/**
 * Puts the fast path in front of every HTTP/2 server `server` listens with (call after bindAsync). Returns its
 * counters, or undefined when grpc-js's servers could not be found (grpc-js then serves everything).
 */
export function installFastUnary(
  server: grpc.Server,
  methods: ReadonlyMap<string, FastUnaryMethod>,
  options: FastUnaryOptions,
): FastUnaryStats | undefined {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) return undefined;
  const stats: FastUnaryStats = { calls: 0 };
  for (const h2 of servers.keys()) {
    if (typeof (h2 as { listeners?: unknown }).listeners !== 'function') continue;
    const emitter = h2 as http2.Http2Server;
    const passOn = emitter.listeners('stream') as StreamListener[];
    if (passOn.length === 0) continue;
    emitter.removeAllListeners('stream');
    emitter.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: unknown) => {
      const method = takes(headers) ? methods.get(headers[':path'] as string) : undefined;
      if (method !== undefined) {
        const timeout = timeoutMs(headers['grpc-timeout']);
        if (timeout !== 'invalid') {
          stats.calls++;
          serve(stream, headers[':path'] as string, method, timeout, options);
          return;
        }
      }
      for (const l of passOn) l.call(emitter, stream, headers, flags, rawHeaders);
    });
  }
  return stats;
}

/** A gRPC request this path can answer as grpc-js would: POST, application/grpc*, no compression. */
function takes(headers: http2.IncomingHttpHeaders): boolean {
  if (headers[':method'] !== 'POST') return false;
  const ct = headers['content-type'];
  if (typeof ct !== 'string' || !ct.startsWith('application/grpc')) return false;
  const enc = headers['grpc-encoding'];
  return enc === undefined || enc === 'identity';
}

function serve(
  stream: http2.ServerHttp2Stream,
  path: string,
  method: FastUnaryMethod,
  timeout: number | undefined,
  options: FastUnaryOptions,
): void {
  // An error is followed by 'close', which is all that matters here (as grpc-js, which also only swallows it).
  stream.on('error', () => undefined);
  let finished = false;
  let timer: NodeJS.Timeout | undefined;
  const gone = (): boolean => finished || stream.destroyed || stream.closed;
  const fail = (code: grpc.status, details: string): void => {
    if (gone()) return;
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    // Trailers-only: the status in the one HEADERS frame, as grpc-js answers a call that sent no message.
    stream.respond({ ...RESPONSE_HEADERS_NO_ENCODING, 'grpc-status': code, 'grpc-message': encodeURI(details) }, ERROR_OPTIONS);
    // Unread request data (an oversized message) is drained and dropped.
    stream.resume();
  };
  const reply = (value: unknown): void => {
    if (gone()) return;
    let msg: Buffer;
    try {
      msg = method.serialize(value);
    } catch {
      fail(grpc.status.INTERNAL, 'Error serializing response');
      return;
    }
    if (options.maxSendMessageLength !== -1 && msg.length > options.maxSendMessageLength) {
      fail(grpc.status.RESOURCE_EXHAUSTED, `Sent message larger than max (${msg.length + 5} vs. ${options.maxSendMessageLength})`);
      return;
    }
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    const frame = Buffer.allocUnsafe(5 + msg.length);
    frame[0] = 0;
    frame.writeUInt32BE(msg.length, 1);
    msg.copy(frame, 5);
    stream.respond(RESPONSE_HEADERS, RESPOND_OPTIONS);
    stream.once('wantTrailers', () => stream.sendTrailers(OK_TRAILERS));
    // Data and end of stream together: nghttp2 takes both in one go and node asks for the trailers right after.
    stream.end(frame);
  };

  if (timeout !== undefined) {
    timer = setTimeout(() => fail(grpc.status.DEADLINE_EXCEEDED, 'Deadline exceeded'), timeout);
  }
  stream.once('close', () => {
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
  });

  const chunks: Buffer[] = [];
  let received = 0;
  let sizeChecked = false;
  stream.on('data', (chunk: Buffer) => {
    if (finished) return;
    chunks.push(chunk);
    received += chunk.length;
    // Refuse an oversized message from its length prefix, before buffering it (as grpc-js's decoder).
    if (!sizeChecked && received >= 5) {
      sizeChecked = true;
      const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      const len = head.readUInt32BE(1);
      const max = options.maxReceiveMessageLength;
      if (max !== -1 && len > max) fail(grpc.status.RESOURCE_EXHAUSTED, `Received message larger than max (${len} vs ${max})`);
    }
  });
  stream.once('end', () => {
    if (gone()) return;
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received);
    // Exactly one complete message, as grpc-js's unary handling (it ignores an incomplete trailing frame).
    const len = body.length >= 5 ? body.readUInt32BE(1) : -1;
    if (len < 0 || 5 + len > body.length) {
      fail(grpc.status.UNIMPLEMENTED, `Received no request message for server streaming method ${path}`);
      return;
    }
    if (body.length >= 10 + len && 10 + len + body.readUInt32BE(6 + len) <= body.length) {
      fail(grpc.status.UNIMPLEMENTED, `Received a second request message for server streaming method ${path}`);
      return;
    }
    // The compressed flag is not looked at: under identity encoding grpc-js reads the bytes as they are, too.
    let request: unknown;
    try {
      request = method.deserialize(body.subarray(5, 5 + len));
    } catch {
      fail(grpc.status.INTERNAL, 'Error deserializing request');
      return;
    }
    method.run(request).then(reply, (error: unknown) => {
      const e = error as { code?: unknown; details?: unknown; message?: unknown };
      // grpc-js's serverErrorToStatus: an integer code with its details, else UNKNOWN with the message.
      if (typeof e.code === 'number' && Number.isInteger(e.code)) {
        fail(e.code, typeof e.details === 'string' ? e.details : String(e.message ?? 'Unknown Error'));
      } else fail(grpc.status.UNKNOWN, typeof e.message === 'string' ? e.message : 'Unknown Error');
    });
  });
}

/** grpc-js's trailers-only answer carries only :status and content-type besides the status. */
const RESPONSE_HEADERS_NO_ENCODING: http2.OutgoingHttpHeaders = {
  ':status': 200,
  'content-type': 'application/grpc+proto',
};
