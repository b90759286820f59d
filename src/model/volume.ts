/**
 * Volumes: block or file storage served by storage targets (`kind: storage` endpoints, one per replica
 * or brick), and their attachments to the endpoints that mount them. The network gives each attached
 * endpoint exactly the storage paths it was granted (docs/volumes.md).
 */

export const VOLUME_PROTOCOLS = ['nfs', 'iscsi', 'nvme-tcp', 'gluster'] as const;
export type VolumeProtocol = (typeof VOLUME_PROTOCOLS)[number];

export const ATTACHMENT_MODES = ['rw', 'ro'] as const;
export type AttachmentMode = (typeof ATTACHMENT_MODES)[number];

/**
 * The ports a protocol's clients reach when a volume names none: NFS and its portmapper, iSCSI,
 * NVMe/TCP, Gluster's management ports and its first brick port (glusterd gives a node's first brick
 * 49152; each target is one brick on its own node).
 */
export const DEFAULT_VOLUME_PORTS: Readonly<Record<VolumeProtocol, readonly number[]>> = {
  nfs: [2049, 111],
  iscsi: [3260],
  'nvme-tcp': [4420],
  gluster: [24007, 24008, 49152],
};

/** An attachment's rate limit: megabits per second and/or packets per second (absent: unlimited). */
export interface VolumeQos {
  readonly mbps?: number;
  readonly pps?: number;
}

export interface Volume {
  readonly id: string;
  readonly name: string;
  readonly protocol: VolumeProtocol;
  /** Storage endpoints (ids), one per replica or brick, all in one VPC. */
  readonly targets: readonly string[];
  /** TCP and UDP ports the targets serve the volume on. */
  readonly ports: readonly number[];
  /** Each attachment's rate limit (absent: unlimited). */
  readonly qos?: VolumeQos;
  /**
   * Targets out of service (their switch disconnected, their port down, or failing health probes):
   * mount addresses spread over the others. Absent: none.
   */
  readonly unhealthy?: readonly string[];
}

/**
 * Does each target of a volume of this protocol get a mount address of its own? Gluster clients talk
 * to every brick; the other protocols' clients talk to one address, spread over the replicas.
 */
export function mountsPerTarget(protocol: VolumeProtocol): boolean {
  return protocol === 'gluster';
}

/** One mount address of an attachment: in the endpoint's own subnet, for one target (Gluster) or all. */
export interface MountAddress {
  readonly ip: number;
  /** The target this address reaches (Gluster's bricks); absent: the volume's healthy targets. */
  readonly target?: string;
}

/** The address an attachment's traffic comes from at the targets: unique in the storage VPC. */
export interface MountSource {
  readonly subnetId: string;
  readonly ip: number;
}

/**
 * A volume mounted by an endpoint: the endpoint reaches the volume's targets on its ports through its
 * mount addresses (translated to the targets and back); an endpoint in the targets' own VPC also
 * reaches the targets' own addresses.
 */
export interface Attachment {
  readonly id: string;
  readonly volumeId: string;
  readonly endpointId: string;
  readonly mode: AttachmentMode;
  /** In the endpoint's subnet: one, or one per target (mountsPerTarget). Absent: stored before schema 10. */
  readonly mounts?: readonly MountAddress[];
  /** Where its translated traffic comes from, in the storage VPC (absent with `mounts`). */
  readonly source?: MountSource;
}
