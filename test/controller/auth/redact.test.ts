/** Credentials in URLs are replaced, the rest of the text is kept exactly. */
import { describe, expect, it } from 'vitest';
import { redactSecrets } from '../../../src/controller/auth/index.js';

describe('redactSecrets', () => {
  it('replaces user information and credential query values', () => {
    expect(redactSecrets('https://user:pa55@hooks.example/x?a=1')).toBe('https://***@hooks.example/x?a=1');
    expect(redactSecrets('https://tokenonly@hooks.example/')).toBe('https://***@hooks.example/');
    expect(redactSecrets('/v1/events?types=a&access_token=ovc_abc-DEF_1')).toBe('/v1/events?types=a&access_token=***');
    expect(redactSecrets('http://h/x?token=t1&key=k&Signature=s#frag')).toBe('http://h/x?token=***&key=***&Signature=***#frag');
    expect(redactSecrets('delivery to https://u:p@h/x?secret=s failed')).toBe('delivery to https://***@h/x?secret=*** failed');
  });

  it('leaves URLs without credentials alone', () => {
    for (const s of ['https://hooks.example/x?types=a,b&limit=3', '/v1/vpcs/vpc-1', 'no url here', 'mailto:a@b.c', 'http://h/x?tokens=list']) expect(redactSecrets(s)).toBe(s);
  });
});
