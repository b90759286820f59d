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
}

/** A volume mounted by an endpoint: the endpoint reaches the volume's targets on its ports. */
export interface Attachment {
  readonly id: string;
  readonly volumeId: string;
  readonly endpointId: string;
  readonly mode: AttachmentMode;
}
