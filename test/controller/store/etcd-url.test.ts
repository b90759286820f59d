import { describe, expect, it } from 'vitest';
import { parseEtcdUrl } from '../../../src/controller/store/etcd/etcd-connection.js';
import { openControllerStores } from '../../../src/cli/controller-stores.js';
import { isOvercastError } from '../../../src/errors/index.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isOvercastError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe('--store URLs', () => {
  it('reads members and an optional key prefix', () => {
    expect(parseEtcdUrl('etcd://127.0.0.1:2379')).toEqual({ hosts: ['http://127.0.0.1:2379'], prefix: '/overcast/' });
    expect(parseEtcdUrl('etcd://a:1,b:2,c:3/lab7')).toEqual({ hosts: ['http://a:1', 'http://b:2', 'http://c:3'], prefix: '/lab7/' });
  });

  it('refuses what is not etcd://HOST:PORT[,...], and --data beside etcd', () => {
    expect(codeOf(() => parseEtcdUrl('etcd://nohost'))).toBe('OVC_ERR_STORE_BAD_URL');
    expect(codeOf(() => parseEtcdUrl('http://a:1'))).toBe('OVC_ERR_STORE_BAD_URL');
    expect(codeOf(() => openControllerStores({ store: 'mysql://x' }))).toBe('OVC_ERR_STORE_BAD_URL');
    expect(codeOf(() => openControllerStores({ store: 'etcd://a:1', data: '/tmp/x' }))).toBe('OVC_ERR_STORE_BAD_URL');
  });
});
