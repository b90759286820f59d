import { describe, expect, it } from 'vitest';
import { collect, rebaseFields } from '../../../src/controller/intent/validation.js';
import { OvercastError, isOvercastError, type ProblemDetail } from '../../../src/errors/index.js';

function problemsOf(fn: () => unknown): ProblemDetail[] {
  try {
    fn();
  } catch (e) {
    if (isOvercastError(e)) return e.problems;
    throw e;
  }
  throw new Error('no error thrown');
}

const refusal = (...problems: ProblemDetail[]) => OvercastError.fromProblems(problems);

describe('collect', () => {
  it("returns the parser's value and adds no problem", () => {
    const problems: ProblemDetail[] = [];
    expect(collect(problems, () => 42)).toBe(42);
    expect(problems).toEqual([]);
  });

  it("turns an OvercastError into its problems, after the ones already found", () => {
    const problems: ProblemDetail[] = [{ code: 'OVC_ERR_API_VALIDATION', message: 'earlier', field: 'body.kind' }];
    const a = { code: 'OVC_ERR_NET_BAD_CIDR', message: 'a', field: 'body.cidr' } as const;
    const b = { code: 'OVC_ERR_NET_BAD_IPV4', message: 'b', field: 'body.gateway' } as const;
    expect(
      collect(problems, () => {
        throw refusal(a, b);
      }),
    ).toBeUndefined();
    expect(problems.map((p) => p.field)).toEqual(['body.kind', 'body.cidr', 'body.gateway']);
  });

  it('lets any other error through', () => {
    expect(() =>
      collect([], () => {
        throw new TypeError('bug');
      }),
    ).toThrow(TypeError);
  });
});

describe('rebaseFields', () => {
  const failWith = (...fields: (string | undefined)[]) => () => {
    throw refusal(...fields.map((field) => ({ code: 'OVC_ERR_TOPO_DUPLICATE_NAME' as const, message: 'x', ...(field === undefined ? {} : { field }) })));
  };

  it('renames a field equal to a prefix or under it, and leaves the others', () => {
    const fields = problemsOf(() => rebaseFields(failWith('switches[3]', 'switches[3].dpid', 'switches[3][0]', 'switches[30].dpid', 'links[0].a', undefined), [['switches[3]', 'body']])).map((p) => p.field);
    expect(fields).toEqual(['body', 'body.dpid', 'body[0]', 'switches[30].dpid', 'links[0].a', undefined]);
  });

  it('uses the first rename that applies', () => {
    const fields = problemsOf(() => rebaseFields(failWith('link.a', 'switch'), [['link', 'params.id'], ['link.a', 'body.a'], ['switch', 'params.name']])).map((p) => p.field);
    expect(fields).toEqual(['params.id.a', 'params.name']);
  });

  it("returns the function's value, and lets any other error through", () => {
    expect(rebaseFields(() => 'ok', [['a', 'b']])).toBe('ok');
    expect(() =>
      rebaseFields(() => {
        throw new RangeError('bug');
      }, []),
    ).toThrow(RangeError);
  });
});
