/**
 * Cookies are hashes of owner names (./cookies.ts), so they cannot be read backwards: the registry
 * remembers which owner each live cookie names, for dumps and traces ("matched flow of endpoint web-1").
 */
import { cookieKind, type CookieKind } from './cookies.js';

export type OwnerKind =
  | 'fabric'
  | 'link'
  | 'host'
  | 'endpoint'
  | 'subnet'
  | 'vpc'
  | 'elasticIp'
  | 'loadBalancer'
  | 'gateway'
  | 'tenantBlock'
  | 'volume'
  | 'attachment'
  | 'securityGroup'
  | 'networkAcl';

export interface OwnerName {
  kind: OwnerKind;
  /**
   * The owner's id: endpoint/subnet/VPC id, host name, link id (`s1:2~s2:1`), VNI block number, network
   * ACL id; for security-group rules the VPC id; '' for the fabric.
   */
  name: string;
}

const KIND_OF: Record<CookieKind, OwnerKind> = {
  FABRIC: 'fabric',
  LINK: 'link',
  HOST: 'host',
  ENDPOINT: 'endpoint',
  SUBNET: 'subnet',
  VPC: 'vpc',
  ELASTIC_IP: 'elasticIp',
  LOAD_BALANCER: 'loadBalancer',
  GATEWAY: 'gateway',
  TENANT_BLOCK: 'tenantBlock',
  VOLUME: 'volume',
  ATTACHMENT: 'attachment',
  SECURITY_GROUP: 'securityGroup',
  NETWORK_ACL: 'networkAcl',
  MOUNT: 'attachment',
  MOUNT_RETURN: 'attachment',
};

export class OwnerRegistry {
  private readonly byCookie = new Map<number, OwnerName>();

  set(cookie: number, owner: OwnerName): void {
    this.byCookie.set(cookie, owner);
  }

  delete(cookie: number): void {
    this.byCookie.delete(cookie);
  }

  /** The owner a cookie names; for an unregistered cookie in the scheme, its kind and an empty name. */
  describe(cookie: number): OwnerName | undefined {
    const known = this.byCookie.get(cookie);
    if (known) return known;
    const kind = cookieKind(cookie);
    return kind === undefined ? undefined : { kind: KIND_OF[kind], name: '' };
  }
}
