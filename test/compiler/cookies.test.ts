import { describe, expect, it } from 'vitest';
import { COOKIE_KIND_MASK, cookieId, cookieKind, FABRIC_COOKIE, hostCookie, linkCookie, makeCookie, ownerId48 } from '../../src/compiler/index.js';

describe('cookies', () => {
  it('name the owner kind and stay safe integers', () => {
    expect(cookieKind(FABRIC_COOKIE)).toBe('FABRIC');
    expect(cookieKind(hostCookie('h1'))).toBe('HOST');
    expect(cookieKind(linkCookie('s1:2~s2:1'))).toBe('LINK');
    expect(cookieKind(0)).toBeUndefined();
    for (const c of [FABRIC_COOKIE, hostCookie('h1'), makeCookie('HOST', 2 ** 48 - 1)]) expect(Number.isSafeInteger(c)).toBe(true);
    expect(Number.isSafeInteger(COOKIE_KIND_MASK)).toBe(true);
  });

  it('are stable per name and differ between names', () => {
    expect(hostCookie('h1')).toBe(hostCookie('h1'));
    expect(cookieId(hostCookie('web-1'))).toBe(ownerId48('web-1'));
    const ids = new Set(Array.from({ length: 5000 }, (_, i) => hostCookie(`h${i}`)));
    expect(ids.size).toBe(5000);
    expect(hostCookie('x')).not.toBe(linkCookie('x'));
  });

  it('FNV-1a 64 known answer (low 48 bits)', () => {
    // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c.
    expect(ownerId48('a')).toBe(0xdc4c8601ec8c);
  });
});
