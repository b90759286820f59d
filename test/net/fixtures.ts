/**
 * Known-answer frames. Built by our builders from the inputs noted, then checked with an independent
 * decoder: `text2pcap` + `tshark -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE
 * -o tcp.check_checksum:TRUE -V` (Wireshark 4) reported every IP/UDP/TCP/ICMP checksum "correct"
 * and decoded the fields as noted. Addresses: 02:00:00:00:00:01 / 10.0.0.1 -> 02:00:00:00:00:02 / 10.0.0.2.
 */
export const KNOWN = {
  /** UDP 5000 -> 53, ipId 0x1234, payload "hello, overcast"; IP csum 0x548c, UDP csum 0xb556. */
  udp: '02000000000202000000000108004500002b123400004011548c0a0000010a000002138800350017b55668656c6c6f2c206f76657263617374',
  /** VLAN 100 PCP 5; UDP 65535 -> 1, odd payload "abc"; IP csum 0x66cc, UDP csum 0x2772. */
  udpVlanOdd: '0200000000020200000000018100a06408004500001f00000000401166cc0a0000010a000002ffff0001000b2772616263',
  /** TCP 40000 -> 80, seq 0xdeadbeef, ack 0x01020304, ACK|PSH, window 502, "GET / HTTP/1.0\r\n\r\n"; TCP csum 0x7cee. */
  tcp: '02000000000202000000000108004500003a00000000400666bc0a0000010a0000029c400050deadbeef01020304501801f67cee0000474554202f20485454502f312e300d0a0d0a',
  /** ICMP echo request id 0x4242 seq 7, 37-byte payload "0123...xyz!"; IP csum 0x66ba, ICMP csum 0x0111. */
  icmp: '02000000000202000000000108004500004100000000400166ba0a0000010a0000020800011142420007303132333435363738396162636465666768696a6b6c6d6e6f707172737475767778797a21',
  /** ARP request: who has 10.0.0.2, tell 10.0.0.1 (02:00:00:00:00:01), broadcast. */
  arp: 'ffffffffffff020000000001080600010800060400010200000000010a0000010000000000000a000002',
} as const;

export function hex(s: string): Buffer {
  return Buffer.from(s, 'hex');
}
