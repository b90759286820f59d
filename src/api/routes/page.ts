/**
 * The topology page: GET / (the HTML shell) and GET /ui/app.js (its script, bundled from src/web on
 * first request). Neither carries data: the script reads the REST API with the token from the page's
 * own URL (?token=...). So both are public: a browser opens the page before it holds a token.
 */
import type { FastifyInstance } from 'fastify';
import type { ApiServices } from '../services.js';

type Page = NonNullable<ApiServices['page']>;

export function registerPageRoutes(app: FastifyInstance, page: Page): void {
  app.get('/', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(await page.html()),
  );
  app.get('/ui/app.js', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(await page.script()),
  );
}
