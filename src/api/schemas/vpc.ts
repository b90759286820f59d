/** VPC and subnet JSON shapes, and their formatting from the model (addresses as text). */
import { Type } from '@sinclair/typebox';
import { MAX_VNI, type Subnet, type Vpc } from '../../model/index.js';
import { Cidr, formatCidr, formatIpv4 } from '../../net/index.js';
import { StrictObject } from './common.js';

const CidrText = Type.String({ maxLength: 18, examples: ['10.0.0.0/16'] });

export const VpcJson = Type.Object({
  id: Type.String({ examples: ['vpc-1'] }),
  name: Type.String(),
  cidr: CidrText,
  vni: Type.Integer({ description: `Tenant number carried between switches (1..${MAX_VNI})` }),
});

export const CreateVpcBody = StrictObject({
  name: Type.String({ minLength: 1, maxLength: 128 }),
  cidr: CidrText,
  vni: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_VNI, description: 'The VNI to carry (default: the lowest free one); unique' })),
});

export const UpdateVpcBody = StrictObject({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  cidr: Type.Optional(CidrText),
});

export const SubnetJson = Type.Object({
  id: Type.String({ examples: ['subnet-1'] }),
  vpc: Type.String(),
  name: Type.String(),
  cidr: CidrText,
  gateway: Type.String({ examples: ['10.0.1.1'] }),
});

export const CreateSubnetBody = StrictObject({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  cidr: CidrText,
  gateway: Type.Optional(Type.String({ maxLength: 15, description: 'Default: the first host address' })),
});

export const SubnetParams = StrictObject({ id: Type.String({ minLength: 1, maxLength: 64 }), subnetId: Type.String({ minLength: 1, maxLength: 64 }) });

export function vpcJson(v: Vpc) {
  return { id: v.id, name: v.name, cidr: formatCidr(new Cidr(v.cidr.network, v.cidr.prefixLength)), vni: v.vni };
}

export function subnetJson(s: Subnet) {
  return { id: s.id, vpc: s.vpcId, name: s.name, cidr: formatCidr(new Cidr(s.cidr.network, s.cidr.prefixLength)), gateway: formatIpv4(s.gateway) };
}
