/**
 * The one declaration of every error code: its HTTP status and what it means. Adding a code is one
 * line here; test/errors/codes.test.ts keeps codes, docs and usage in step.
 */
export const ERROR_CODES = {
  // net: addresses and values
  OVC_ERR_NET_BAD_MAC: { status: 400, doc: 'not a MAC address (aa:bb:cc:dd:ee:ff)' },
  OVC_ERR_NET_BAD_IPV4: { status: 400, doc: 'not a dotted-quad IPv4 address' },
  OVC_ERR_NET_BAD_CIDR: { status: 400, doc: 'not an IPv4 CIDR (a.b.c.d/len) or host bits set' },
  // topology files and the topology graph
  OVC_ERR_TOPO_PARSE: { status: 400, doc: 'the topology file is not valid YAML' },
  OVC_ERR_TOPO_SCHEMA: { status: 400, doc: 'a field is missing or has the wrong type' },
  OVC_ERR_TOPO_DUPLICATE_DPID: { status: 409, doc: 'two switches share a dpid' },
  OVC_ERR_TOPO_DUPLICATE_NAME: { status: 409, doc: 'two switches or hosts share a name' },
  OVC_ERR_TOPO_DUPLICATE_PORT: { status: 409, doc: 'a switch declares the same port number twice' },
  OVC_ERR_TOPO_UNKNOWN_SWITCH: { status: 404, doc: 'a link or host names a switch that does not exist' },
  OVC_ERR_TOPO_UNKNOWN_PORT: { status: 404, doc: 'a link or host names a port the switch does not have' },
  OVC_ERR_TOPO_PORT_IN_USE: { status: 409, doc: 'a port is used by two links or hosts' },
  OVC_ERR_TOPO_SELF_LINK: { status: 400, doc: 'a link joins a port to itself' },
  OVC_ERR_TOPO_DUPLICATE_MAC: { status: 409, doc: 'two hosts share a MAC address' },
  OVC_ERR_TOPO_DUPLICATE_IP: { status: 409, doc: 'two hosts share an IP address' },
  OVC_ERR_TOPO_UNKNOWN_LINK: { status: 404, doc: 'no link with that id or on that port' },
  OVC_ERR_TOPO_UNKNOWN_HOST: { status: 404, doc: 'no host by that name in the topology' },
  // flows
  OVC_ERR_FLOW_BAD_MATCH: { status: 400, doc: 'a match field is out of range or lacks its prerequisite' },
  OVC_ERR_FLOW_BAD_ACTION: { status: 400, doc: 'an action is malformed' },
  OVC_ERR_FLOW_BAD_TABLE: { status: 400, doc: 'no such table, or goto-table does not go forward' },
  OVC_ERR_FLOW_BAD_MAGLEV: { status: 400, doc: 'a Maglev table size is not a prime in range, or a backend weight is negative or not finite' },
  // protocol
  OVC_ERR_PROTO_MALFORMED: { status: 400, doc: 'a control-channel message could not be decoded' },
  OVC_ERR_PROTO_OVERSIZED: { status: 400, doc: 'a control-channel frame exceeds the size limit' },
  OVC_ERR_PROTO_VERSION: { status: 400, doc: 'no common protocol version' },
  OVC_ERR_PROTO_UNSUPPORTED: { status: 400, doc: 'a well-formed control-channel message uses a feature or value the codec does not model' },
  OVC_ERR_CLASSIFIER_DUPLICATE_ID: { status: 409, doc: 'a classifier already holds a rule with that id' },
  OVC_ERR_CLASSIFIER_BAD_RULESET: { status: 400, doc: 'a ClassBench rule or trace line is malformed' },
  OVC_ERR_CLASSIFIER_UNKNOWN_ALGO: { status: 400, doc: 'no classifier algorithm by that name' },
  // api
  OVC_ERR_API_VALIDATION: { status: 400, doc: 'the request does not match its schema' },
  OVC_ERR_API_NOT_FOUND: { status: 404, doc: 'no such resource' },
  OVC_ERR_SWITCH_NOT_CONNECTED: { status: 409, doc: 'the switch is not connected' },
  OVC_ERR_SWITCH_BAD_OPTION: { status: 400, doc: 'a softswitch option (dpid, controller URL, port spec) is malformed' },
  OVC_ERR_SWITCH_BAD_GROUP: { status: 400, doc: 'a group-mod adds an existing group, changes a missing one, or has a bad bucket' },
  OVC_ERR_SWITCH_BAD_BUNDLE: { status: 400, doc: 'a bundle message names no open bundle or comes out of order' },
  OVC_ERR_PROTO_UNEXPECTED: { status: 400, doc: 'a well-formed control-channel message this side does not accept (e.g. a reply sent to a switch)' },
  OVC_ERR_LAB_UNKNOWN_HOST: { status: 404, doc: 'no lab host by that name' },
  OVC_ERR_VPC_NOT_FOUND: { status: 404, doc: 'no VPC with that id' },
  OVC_ERR_VPC_HAS_ENDPOINTS: { status: 409, doc: 'a VPC cannot be deleted while endpoints are in it' },
  OVC_ERR_VPC_EXHAUSTED: { status: 409, doc: 'every VNI (1..MAX_VNI) is taken: no room for another VPC' },
  OVC_ERR_SUBNET_NOT_FOUND: { status: 404, doc: 'no subnet with that id in that VPC' },
  OVC_ERR_SUBNET_OVERLAP: { status: 409, doc: 'the subnet overlaps another subnet of the same VPC' },
  OVC_ERR_SUBNET_OUTSIDE_VPC: { status: 400, doc: 'the subnet is not inside its VPC\'s CIDR (or a new VPC CIDR leaves a subnet out)' },
  OVC_ERR_SUBNET_TOO_SMALL: { status: 400, doc: 'a subnet needs at least a /30: network, gateway, one endpoint, broadcast' },
  OVC_ERR_SUBNET_BAD_GATEWAY: { status: 400, doc: 'the gateway is not a usable host address of the subnet' },
  OVC_ERR_SUBNET_EXHAUSTED: { status: 409, doc: 'the subnet has no free address left' },
  OVC_ERR_SUBNET_HAS_ENDPOINTS: { status: 409, doc: 'a subnet cannot be deleted while endpoints are in it' },
  OVC_ERR_ENDPOINT_NOT_FOUND: { status: 404, doc: 'no endpoint with that id' },
  OVC_ERR_ENDPOINT_IP_OUTSIDE_SUBNET: { status: 400, doc: 'the endpoint IP is not inside its subnet' },
  OVC_ERR_ENDPOINT_IP_RESERVED: { status: 400, doc: 'the endpoint IP is the subnet\'s network or broadcast address' },
  OVC_ERR_ENDPOINT_IP_TAKEN: { status: 409, doc: 'the IP is the gateway\'s or another endpoint\'s in the subnet' },
  OVC_ERR_ENDPOINT_MAC_TAKEN: { status: 409, doc: 'the MAC belongs to another endpoint, a topology host or the gateway' },
  OVC_ERR_ENDPOINT_UNKNOWN_SWITCH: { status: 404, doc: 'no switch with that dpid in the topology' },
  OVC_ERR_ENDPOINT_UNKNOWN_PORT: { status: 404, doc: 'the switch has no port with that number' },
  OVC_ERR_ENDPOINT_PORT_IN_USE: { status: 409, doc: 'the port carries a link, a topology host or another endpoint' },
  OVC_ERR_TOPO_SWITCH_HAS_ENDPOINTS: { status: 409, doc: 'a switch cannot be removed while endpoints attach to it' },
  OVC_ERR_API_BAD_CURSOR: { status: 400, doc: 'the pagination cursor is not one this list returned' },
  OVC_ERR_STORE_SCHEMA_VERSION: { status: 500, doc: 'the intent store was written by a newer schema version than this build reads' },
} as const satisfies Record<string, { status: number; doc: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
