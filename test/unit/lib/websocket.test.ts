import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WebSocketConnection } from '../../../lib/websocket.js';

/** An in-memory socket: what the server writes is collected, what the test pushes is what the server reads. */
function fakeSocket(): { socket: Duplex; written: () => Buffer; ended: () => boolean } {
  const out: Buffer[] = [];
  let ended = false;
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk);
      cb();
    },
    final(cb) {
      ended = true;
      cb();
    },
  });
  return { socket, written: () => Buffer.concat(out), ended: () => ended };
}

const request = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

/** A client frame, masked as RFC 6455 requires of clients. */
function clientFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  const len = payload.length;
  const head = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, mask, masked]);
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('WebSocketConnection', () => {
  it('answers the handshake with the first offered protocol it supports', () => {
    const { socket, written } = fakeSocket();
    const ws = WebSocketConnection.accept(request({ 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-protocol': 'v6.channel.k8s.io, v5.channel.k8s.io, v4.channel.k8s.io' }), socket, Buffer.alloc(0), ['v4.channel.k8s.io', 'v5.channel.k8s.io']);
    expect(ws?.protocol).toBe('v5.channel.k8s.io');
    const text = written().toString();
    expect(text.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).toBe(true);
    // RFC 6455's own example key and answer.
    expect(text).toContain(`Sec-WebSocket-Accept: ${createHash('sha1').update('dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64')}\r\n`);
    expect(text).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(text).toContain('Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n');
  });

  it('refuses protocols it does not speak with 400', () => {
    const { socket, written } = fakeSocket();
    expect(WebSocketConnection.accept(request({ 'sec-websocket-key': 'k', 'sec-websocket-protocol': 'chat' }), socket, Buffer.alloc(0), ['v5.channel.k8s.io'])).toBeUndefined();
    expect(written().toString()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*requested protocol\(s\) are not supported: \[chat\]/);
  });

  it('unmasks messages, joins fragments, answers pings and echoes a close', async () => {
    const { socket, written, ended } = fakeSocket();
    const ws = WebSocketConnection.accept(request({ 'sec-websocket-key': 'k' }), socket, Buffer.alloc(0), ['x']) as WebSocketConnection;
    const handshake = written().length;
    const messages: string[] = [];
    ws.on('message', (m: Buffer) => messages.push(m.toString()));
    const big = Buffer.alloc(300, 'z');
    // A message split over two frames, and one frame split over two reads; a ping between them.
    const first = clientFrame(0x2, Buffer.from('hel'), false);
    const rest = clientFrame(0x0, Buffer.from('lo'));
    socket.push(Buffer.concat([first, clientFrame(0x9, Buffer.from('p')), rest]));
    const bigFrame = clientFrame(0x2, big);
    socket.push(bigFrame.subarray(0, 3));
    socket.push(bigFrame.subarray(3));
    await tick();
    expect(messages).toEqual(['hello', big.toString()]);
    const afterHandshake = written().subarray(handshake);
    expect([...afterHandshake.subarray(0, 3)]).toEqual([0x8a, 1, 'p'.charCodeAt(0)]);
    ws.send(Buffer.from([1, 65]));
    expect([...written().subarray(handshake + 3)]).toEqual([0x82, 2, 1, 65]);
    let closed = false;
    ws.on('close', () => (closed = true));
    const code = Buffer.alloc(2);
    code.writeUInt16BE(1000);
    socket.push(clientFrame(0x8, code));
    await tick();
    expect(closed).toBe(true);
    expect(ended()).toBe(true);
    expect(ws.send(Buffer.from('late'))).toBe(false);
  });
});
