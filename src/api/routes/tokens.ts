/**
 * API tokens: `/v1/tokens[/:id]`, admin only. A created token's text is in the 201 answer and nowhere
 * else, ever: the store keeps its hash, lists show id, name and scope, and the create takes no
 * Idempotency-Key (a kept answer would keep the secret).
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { TOKEN_SCOPES } from '../../controller/auth/scopes.js';
import type { TokenService } from '../../controller/auth/tokens.js';
import { IdParams, StrictObject } from '../schemas/common.js';

const ScopeJson = Type.Union(
  TOKEN_SCOPES.map((s) => Type.Literal(s)),
  { description: 'read: every GET and the trace; write: also every change; admin: also tokens' },
);

const CreateTokenBody = StrictObject({
  scope: ScopeJson,
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'What the token is for (default: "<scope> token")' })),
});

const TokenJson = Type.Object({
  id: Type.String({ examples: ['tok-3f9a0c1b2d4e'] }),
  name: Type.String(),
  scope: ScopeJson,
  createdAt: Type.String({ format: 'date-time' }),
  revokedAt: Type.Optional(Type.String({ format: 'date-time' })),
});

const IssuedTokenJson = Type.Object({
  ...TokenJson.properties,
  token: Type.String({ description: 'The bearer token: shown this once, kept by the controller only as a hash' }),
});

export function registerTokenRoutes(app: FastifyInstance, tokens: TokenService): void {
  const tags = ['tokens'];
  const config = { access: 'admin' as const };

  app.post(
    '/v1/tokens',
    {
      config: { ...config, idempotent: false },
      schema: {
        tags,
        operationId: 'createToken',
        summary: 'Create an API token',
        description: 'A new bearer token of this scope. Its text is in this answer only; keep it. Not idempotent: a retry makes a second token.',
        body: CreateTokenBody,
        response: { 201: IssuedTokenJson },
      },
    },
    async (request, reply) => reply.status(201).send(await tokens.issue(request.body as Static<typeof CreateTokenBody>)),
  );

  app.get(
    '/v1/tokens',
    { config, schema: { tags, operationId: 'listTokens', summary: 'List API tokens', description: 'Every token, revoked ones too, oldest first: id, name, scope and times, never the token itself.', response: { 200: Type.Object({ tokens: Type.Array(TokenJson) }) } } },
    async () => ({ tokens: await tokens.list() }),
  );

  app.delete(
    '/v1/tokens/:id',
    { config, schema: { tags, operationId: 'revokeToken', summary: 'Revoke an API token', description: 'Requests with the token are refused from now on (401). Revoking twice keeps the first time.', params: IdParams, response: { 200: TokenJson } } },
    async (request) => tokens.revoke((request.params as Static<typeof IdParams>).id),
  );
}
