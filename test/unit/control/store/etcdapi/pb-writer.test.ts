import { describe, expect, test } from 'vitest';
import { loadEtcdServices } from '../../../../../control/store/etcdapi/proto.js';
import { encodePutResponse, encodeRangeResponse } from '../../../../../control/store/etcdapi/pb-writer.js';

/** The hand-written Put/Range response encoding gives exactly proto-loader's (protobufjs') bytes. */
const kv = loadEtcdServices().KV.service;
const header = (revision: number, term = '1') => ({ cluster_id: '18446744073709551615', member_id: '9', revision, raft_term: term });
const pbKv = (key: string, value: string, extra: object = {}) => ({
  key: Buffer.from(key),
  create_revision: 3,
  mod_revision: 2 ** 40 + 7,
  version: 1,
  value: Buffer.from(value),
  lease: 0,
  ...extra,
});

describe('pb-writer', () => {
  const puts: Array<[string, object]> = [
    ['a plain put', { header: header(5), prev_kv: null }],
    ['revision 0 and term 0', { header: header(0, '0'), prev_kv: null }],
    ['a previous value', { header: header(Number.MAX_SAFE_INTEGER), prev_kv: pbKv('/k', 'old', { lease: '7587861231' }) }],
    ['an empty previous value', { header: header(9), prev_kv: pbKv('', '') }],
    ['no header', { prev_kv: pbKv('/k', 'v') }],
  ];
  test.each(puts)('PutResponse: %s', (_n, res) => {
    expect(encodePutResponse(res)!.toString('hex')).toBe(kv.Put!.responseSerialize(res).toString('hex'));
  });

  const ranges: Array<[string, object]> = [
    ['no keys', { header: header(4), kvs: [], more: false, count: 0 }],
    ['one key', { header: header(4), kvs: [pbKv('/a', 'x'.repeat(300))], more: false, count: 1 }],
    ['several keys, more', { header: header(12), kvs: [pbKv('/a', '1'), pbKv('/b', '2', { version: 40 })], more: true, count: '1000' }],
    ['a negative lease', { header: header(4), kvs: [pbKv('/a', '1', { lease: -1 })], more: false, count: 1 }],
    ['a count only', { header: header(4), kvs: [], more: false, count: 3 }],
  ];
  test.each(ranges)('RangeResponse: %s', (_n, res) => {
    expect(encodeRangeResponse(res)!.toString('hex')).toBe(kv.Range!.responseSerialize(res).toString('hex'));
  });

  test('an unexpected shape is left to proto-loader', () => {
    expect(encodePutResponse({ header: header(1), prev_kv: { key: 'not a buffer' } })).toBeUndefined();
    expect(encodeRangeResponse({ header: { revision: 1.5 }, kvs: [] })).toBeUndefined();
    expect(encodeRangeResponse({ header: header(1), kvs: 'x' })).toBeUndefined();
  });
});
