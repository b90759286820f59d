/**
 * Volume routes: `/v1/volumes[/:id]`, its attachments (`/v1/volumes/:id/attachments[/:attachmentId]`)
 * and an endpoint's (`/v1/endpoints/:id/attachments`). Changes that move flows (attach, detach, new
 * targets or qos, delete) answer once the switches have installed them: after the 2xx the attached
 * endpoint's next packet passes, a detached one's is dropped.
 */
import type { FastifyInstance } from 'fastify';
import type { Static } from '@sinclair/typebox';
import type { IntentService } from '../../controller/intent/index.js';
import type { Volume } from '../../model/index.js';
import { IdParams, NoContent, PageOnly, pageOf } from '../schemas/common.js';
import { AttachBody, AttachmentJson, AttachmentParams, CreateVolumeBody, UpdateVolumeBody, VolumeJson, VolumeQuery, attachmentJson, volumeJson } from '../schemas/volume.js';
import type { ServiceRouteOptions } from './elastic-ips.js';

export function registerVolumeRoutes(app: FastifyInstance, intent: IntentService, options: ServiceRouteOptions = {}): void {
  const tags = ['volumes'];
  const settled = options.settled ?? (() => intent.settled());
  const json = (v: Volume) => {
    const { vpc, attachments } = intent.volumes.summary(v);
    return volumeJson(v, vpc, attachments);
  };

  app.post(
    '/v1/volumes',
    {
      schema: {
        tags,
        operationId: 'createVolume',
        summary: 'Create a volume',
        description: "Storage served by `kind: storage` endpoints (one per replica or brick, all in one VPC) on the volume's ports (default: the protocol's). From then on a target accepts traffic only from endpoints attached to one of its volumes, on their ports, and from the volume's other targets. Answers once installed.",
        body: CreateVolumeBody,
        response: { 201: VolumeJson },
      },
    },
    async (request, reply) => {
      const v = await intent.volumes.create(request.body as Static<typeof CreateVolumeBody>);
      await settled();
      return reply.status(201).send(json(v));
    },
  );

  app.get(
    '/v1/volumes',
    {
      schema: {
        tags,
        operationId: 'listVolumes',
        summary: 'List volumes',
        description: 'Volumes in creation order, filtered by protocol, name, target or attached endpoint (all filters must match), a page at a time.',
        querystring: VolumeQuery,
        response: { 200: pageOf(VolumeJson) },
      },
    },
    async (request) => {
      const q = request.query as Static<typeof VolumeQuery>;
      const page = intent.volumes.list({ protocol: q.protocol, name: q.name, target: q.target, endpoint: q.endpoint }, { limit: q.limit, cursor: q.cursor });
      return { items: page.items.map(json), next: page.next };
    },
  );

  app.get(
    '/v1/volumes/:id',
    { schema: { tags, operationId: 'getVolume', summary: 'One volume', description: 'The volume with this id, its VPC and how many endpoints are attached.', params: IdParams, response: { 200: VolumeJson } } },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      return json(intent.volumes.get(id));
    },
  );

  app.patch(
    '/v1/volumes/:id',
    {
      schema: {
        tags,
        operationId: 'updateVolume',
        summary: "Change a volume's targets or qos",
        description: 'New targets (replicas added or removed; still storage endpoints of one VPC) and/or a new rate limit per attachment (null removes it). Answers once installed.',
        params: IdParams,
        body: UpdateVolumeBody,
        response: { 200: VolumeJson },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const v = await intent.volumes.update(id, request.body as Static<typeof UpdateVolumeBody>);
      await settled();
      return json(v);
    },
  );

  app.delete(
    '/v1/volumes/:id',
    {
      schema: {
        tags,
        operationId: 'deleteVolume',
        summary: 'Delete a volume',
        description: 'Refused while the volume is attached (OVC_ERR_VOLUME_IN_USE). Its targets stop being guarded by it once the change is installed.',
        params: IdParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      await intent.volumes.delete(id);
      await settled();
      return reply.status(204).send();
    },
  );

  app.post(
    '/v1/volumes/:id/attachments',
    {
      schema: {
        tags,
        operationId: 'attachVolume',
        summary: 'Attach a volume to an endpoint',
        description: "The endpoint reaches the volume's targets on its ports. Answers once installed: the endpoint's next packet passes.",
        params: IdParams,
        body: AttachBody,
        response: { 201: AttachmentJson },
      },
    },
    async (request, reply) => {
      const { id } = request.params as Static<typeof IdParams>;
      const a = await intent.volumes.attach(id, request.body as Static<typeof AttachBody>);
      await settled();
      return reply.status(201).send(attachmentJson(a));
    },
  );

  app.get(
    '/v1/volumes/:id/attachments',
    {
      schema: {
        tags,
        operationId: 'listVolumeAttachments',
        summary: "List a volume's attachments",
        description: 'Attachments of the volume in creation order, a page at a time.',
        params: IdParams,
        querystring: PageOnly,
        response: { 200: pageOf(AttachmentJson) },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const page = intent.volumes.listAttachments(id, request.query as Static<typeof PageOnly>);
      return { items: page.items.map(attachmentJson), next: page.next };
    },
  );

  app.get(
    '/v1/volumes/:id/attachments/:attachmentId',
    { schema: { tags, operationId: 'getVolumeAttachment', summary: 'One attachment', description: 'The attachment with this id on this volume.', params: AttachmentParams, response: { 200: AttachmentJson } } },
    async (request) => {
      const { id, attachmentId } = request.params as Static<typeof AttachmentParams>;
      return attachmentJson(intent.volumes.getAttachment(id, attachmentId));
    },
  );

  app.delete(
    '/v1/volumes/:id/attachments/:attachmentId',
    {
      schema: {
        tags,
        operationId: 'detachVolume',
        summary: 'Detach a volume from an endpoint',
        description: "Answers once installed: the endpoint's next packet to the targets is dropped, established connections included.",
        params: AttachmentParams,
        response: { 204: NoContent },
      },
    },
    async (request, reply) => {
      const { id, attachmentId } = request.params as Static<typeof AttachmentParams>;
      await intent.volumes.detach(id, attachmentId);
      await settled();
      return reply.status(204).send();
    },
  );

  app.get(
    '/v1/endpoints/:id/attachments',
    {
      schema: {
        tags,
        operationId: 'listEndpointAttachments',
        summary: "List an endpoint's volume attachments",
        description: 'The volumes this endpoint is attached to, as attachments in creation order, a page at a time.',
        params: IdParams,
        querystring: PageOnly,
        response: { 200: pageOf(AttachmentJson) },
      },
    },
    async (request) => {
      const { id } = request.params as Static<typeof IdParams>;
      const page = intent.volumes.attachmentsOfEndpoint(id, request.query as Static<typeof PageOnly>);
      return { items: page.items.map(attachmentJson), next: page.next };
    },
  );
}
