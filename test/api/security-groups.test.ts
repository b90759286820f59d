/**
 * Security groups and network ACLs over REST (docs/security-groups.md): each VPC's default group and
 * endpoints joining it, rules replaced whole, group references, every refusal with its code and field,
 * ACLs per subnet in number order, and what survives a reopen of the store file.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../controller/store/fixtures.js';
import { buildTestApi, ok, refused, vpcWithSubnet, type Endpoint, type TestApi } from './helpers.js';

interface Group {
  id: string;
  vpc: string;
  name: string;
  default: boolean;
  rules: Record<string, unknown>[];
}
interface Acl {
  id: string;
  subnet: string;
  rules: Record<string, unknown>[];
}
type Member = Endpoint & { securityGroups: string[] };

let t: TestApi;
beforeEach(async () => {
  t = await buildTestApi();
});
afterEach(async () => {
  await t.close();
});

describe('security groups', () => {
  it('each VPC has a default group that new endpoints join; deleting the VPC deletes it', async () => {
    const { vpc, subnet } = await vpcWithSubnet(t.app);
    const { items } = await ok<{ items: Group[] }>(t.app, 'GET', `/v1/security-groups?vpc=${vpc.id}`);
    expect(items).toEqual([
      {
        id: 'sg-1',
        vpc: vpc.id,
        name: 'default',
        default: true,
        rules: [
          { direction: 'ingress', protocol: 'any', group: 'sg-1' },
          { direction: 'egress', protocol: 'any', cidr: '0.0.0.0/0' },
        ],
      },
    ]);
    const ep = await ok<Member>(t.app, 'POST', '/v1/endpoints', { kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2 });
    expect(ep.securityGroups).toEqual(['sg-1']);
    await refused(t.app, 'DELETE', '/v1/security-groups/sg-1', undefined, 409, 'OVC_ERR_SECURITY_GROUP_DEFAULT', 'params.id');
    await ok(t.app, 'DELETE', `/v1/endpoints/${ep.id}`);
    await ok(t.app, 'DELETE', `/v1/vpcs/${vpc.id}`);
    await refused(t.app, 'GET', '/v1/security-groups/sg-1', undefined, 404, 'OVC_ERR_SECURITY_GROUP_NOT_FOUND', 'params.id');
  });

  it('creates a group naming itself and another, replaces its rules whole on PATCH, and refuses a delete while in use', async () => {
    const { vpc, subnet } = await vpcWithSubnet(t.app);
    const web = await ok<Group>(t.app, 'POST', '/v1/security-groups', {
      name: 'web',
      vpc: vpc.id,
      rules: [
        { direction: 'ingress', protocol: 'tcp', ports: '80', cidr: '0.0.0.0/0' },
        { direction: 'ingress', protocol: 'tcp', ports: '8000-8100', group: 'self' },
      ],
    });
    expect(web).toMatchObject({ id: 'sg-2', default: false, rules: [{ ports: '80', cidr: '0.0.0.0/0' }, { ports: '8000-8100', group: 'sg-2' }] });
    const db = await ok<Group>(t.app, 'POST', '/v1/security-groups', { name: 'db', vpc: vpc.id, rules: [{ direction: 'ingress', protocol: 'tcp', ports: '5432', group: web.id }] });
    const ep = await ok<Member>(t.app, 'POST', '/v1/endpoints', { kind: 'container', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2, securityGroups: [web.id] });
    expect(ep.securityGroups).toEqual([web.id]);
    await refused(t.app, 'DELETE', `/v1/security-groups/${web.id}`, undefined, 409, 'OVC_ERR_SECURITY_GROUP_IN_USE', 'params.id');
    const moved = await ok<Member>(t.app, 'PATCH', `/v1/endpoints/${ep.id}`, { securityGroups: ['sg-1', db.id] });
    expect(moved.securityGroups).toEqual(['sg-1', db.id]);
    // Still named by db's rule.
    await refused(t.app, 'DELETE', `/v1/security-groups/${web.id}`, undefined, 409, 'OVC_ERR_SECURITY_GROUP_IN_USE', 'params.id');
    const replaced = await ok<Group>(t.app, 'PATCH', `/v1/security-groups/${db.id}`, { rules: [{ direction: 'egress', protocol: 'udp', ports: '53' }] });
    expect(replaced.rules).toEqual([{ direction: 'egress', protocol: 'udp', ports: '53' }]);
    await ok(t.app, 'DELETE', `/v1/security-groups/${web.id}`);
    await refused(t.app, 'DELETE', `/v1/vpcs/${vpc.id}`, undefined, 409, 'OVC_ERR_VPC_HAS_ENDPOINTS', 'params.id');
    await ok(t.app, 'DELETE', `/v1/endpoints/${ep.id}`);
    await refused(t.app, 'DELETE', `/v1/vpcs/${vpc.id}`, undefined, 409, 'OVC_ERR_SECURITY_VPC_HAS_GROUPS', 'params.id');
  });

  it('refuses malformed rules, every problem at once, and groups of another VPC', async () => {
    const { vpc, subnet } = await vpcWithSubnet(t.app);
    const other = await ok<{ id: string }>(t.app, 'POST', '/v1/vpcs', { name: 'o', cidr: '10.9.0.0/16' });
    const body = await refused(t.app, 'POST', '/v1/security-groups', {
      name: 'bad',
      vpc: vpc.id,
      rules: [
        { direction: 'ingress', protocol: 'icmp', ports: '80' },
        { direction: 'ingress', protocol: 'tcp', ports: '90-80' },
        { direction: 'egress', protocol: 'tcp', cidr: '10.0.0.0/8', group: 'sg-1' },
        { direction: 'egress', protocol: 'udp', group: 'sg-2' },
      ],
    }, 400, 'OVC_ERR_SECURITY_BAD_RULE', 'body.rules[0].ports');
    expect(body.problems?.map((p) => [p.code, p.field])).toEqual([
      ['OVC_ERR_SECURITY_BAD_RULE', 'body.rules[0].ports'],
      ['OVC_ERR_SECURITY_BAD_RULE', 'body.rules[1].ports'],
      ['OVC_ERR_SECURITY_BAD_RULE', 'body.rules[2]'],
      ['OVC_ERR_SECURITY_GROUP_NOT_FOUND', 'body.rules[3].group'],
    ]);
    await refused(t.app, 'POST', '/v1/security-groups', { name: 'x', vpc: 'vpc-9' }, 404, 'OVC_ERR_VPC_NOT_FOUND', 'body.vpc');
    await refused(t.app, 'POST', '/v1/endpoints', { kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2, securityGroups: [`sg-2`] }, 404, 'OVC_ERR_SECURITY_GROUP_NOT_FOUND', 'body.securityGroups[0]');
    expect(other.id).toBe('vpc-2');
    await refused(t.app, 'POST', '/v1/endpoints', { kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2, securityGroups: [] }, 400, 'OVC_ERR_API_VALIDATION', 'body.securityGroups');
  });
});

describe('network ACLs', () => {
  it('one per subnet, rules in number order, replaced whole, deleted with the subnet', async () => {
    const { vpc, subnet } = await vpcWithSubnet(t.app);
    const acl = await ok<Acl>(t.app, 'POST', '/v1/network-acls', {
      subnet: subnet.id,
      rules: [
        { number: 200, action: 'allow', direction: 'ingress', protocol: 'any', cidr: '0.0.0.0/0' },
        { number: 100, action: 'deny', direction: 'ingress', protocol: 'tcp', ports: '22', cidr: '10.0.0.0/8' },
      ],
    });
    expect(acl).toEqual({
      id: 'acl-1',
      subnet: subnet.id,
      rules: [
        { number: 100, action: 'deny', direction: 'ingress', protocol: 'tcp', ports: '22', cidr: '10.0.0.0/8' },
        { number: 200, action: 'allow', direction: 'ingress', protocol: 'any', cidr: '0.0.0.0/0' },
      ],
    });
    await refused(t.app, 'POST', '/v1/network-acls', { subnet: subnet.id }, 409, 'OVC_ERR_SECURITY_ACL_EXISTS', 'body.subnet');
    await refused(t.app, 'PATCH', `/v1/network-acls/${acl.id}`, {
      rules: [
        { number: 1, action: 'allow', direction: 'egress', protocol: 'any', cidr: '0.0.0.0/0' },
        { number: 1, action: 'deny', direction: 'egress', protocol: 'any', cidr: '0.0.0.0/0' },
      ],
    }, 400, 'OVC_ERR_SECURITY_BAD_RULE', 'body.rules[1].number');
    const replaced = await ok<Acl>(t.app, 'PATCH', `/v1/network-acls/${acl.id}`, { rules: [{ number: 5, action: 'allow', direction: 'egress', protocol: 'udp', ports: '53', cidr: '10.0.0.2/32' }] });
    expect(replaced.rules).toEqual([{ number: 5, action: 'allow', direction: 'egress', protocol: 'udp', ports: '53', cidr: '10.0.0.2/32' }]);
    await ok(t.app, 'DELETE', `/v1/vpcs/${vpc.id}/subnets/${subnet.id}`);
    await refused(t.app, 'GET', `/v1/network-acls/${acl.id}`, undefined, 404, 'OVC_ERR_SECURITY_ACL_NOT_FOUND', 'params.id');
  });
});

describe('store', () => {
  it('groups, memberships and ACLs survive a reopen', async () => {
    await t.close();
    const tmp = tempDir();
    try {
      t = await buildTestApi(tmp.file);
      const { vpc, subnet } = await vpcWithSubnet(t.app);
      const g = await ok<Group>(t.app, 'POST', '/v1/security-groups', { name: 'g', vpc: vpc.id, rules: [{ direction: 'ingress', protocol: 'udp', ports: '53', cidr: '10.0.0.0/8' }] });
      const ep = await ok<Member>(t.app, 'POST', '/v1/endpoints', { kind: 'function', vpc: vpc.id, subnet: subnet.id, dpid: 1, port: 2, securityGroups: [g.id, 'sg-1'] });
      const acl = await ok<Acl>(t.app, 'POST', '/v1/network-acls', { subnet: subnet.id, rules: [{ number: 1, action: 'deny', direction: 'egress', protocol: 'icmp', cidr: '0.0.0.0/0' }] });
      await t.close();
      t = await buildTestApi(tmp.file);
      expect(await ok(t.app, 'GET', `/v1/security-groups/${g.id}`)).toEqual(g);
      expect(await ok(t.app, 'GET', `/v1/endpoints/${ep.id}`)).toEqual(ep);
      expect(await ok(t.app, 'GET', `/v1/network-acls/${acl.id}`)).toEqual(acl);
    } finally {
      await t.close();
      tmp.remove();
      t = await buildTestApi();
    }
  });
});
