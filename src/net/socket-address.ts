/** Where a socket listens or sends: a host name or IPv4 address and a UDP or TCP port. */
export interface SocketAddress {
  host: string;
  port: number;
}
