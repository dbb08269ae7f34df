// Ethernet II, ARP (IPv4 over Ethernet) and IPv4 headers: parse and build. Pure; every parser
// returns null for anything malformed or truncated instead of throwing, because frames come
// from outside (the switch and the client drop and count what they cannot read).

export type Mac = string; // "02:00:00:00:00:02"
export type Ip4 = string; // "10.0.2.15"

export const ETH_IPV4 = 0x0800;
export const ETH_ARP = 0x0806;
/** VMware's go-live announcement is a RARP broadcast; the switch learns from any source address. */
export const ETH_RARP = 0x8035;
export const IP_TCP = 6;
export const BROADCAST: Mac = "ff:ff:ff:ff:ff:ff";

export function macBytes(m: Mac): Uint8Array {
  const parts = m.split(":");
  if (parts.length !== 6) throw new RangeError(`bad MAC ${m}`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function macString(b: Uint8Array, at = 0): Mac {
  return Array.from(b.subarray(at, at + 6), (x) => x.toString(16).padStart(2, "0")).join(":");
}

export function ipBytes(ip: Ip4): Uint8Array {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new RangeError(`bad IPv4 address ${ip}`);
  return Uint8Array.from(parts);
}

export function ipString(b: Uint8Array, at = 0): Ip4 {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** The Internet checksum (RFC 1071) of data, continuing from a partial sum. */
export function onesSum(data: Uint8Array, start = 0, end = data.length, sum = 0): number {
  for (let i = start; i + 1 < end; i += 2) sum += (data[i] << 8) | data[i + 1];
  if ((end - start) & 1) sum += data[end - 1] << 8;
  return sum;
}

export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

// ---------------------------------------------------------------- Ethernet

export interface EthFrame {
  dst: Mac;
  src: Mac;
  type: number;
  payload: Uint8Array;
}

export function parseEth(f: Uint8Array): EthFrame | null {
  if (f.length < 14) return null;
  return { dst: macString(f, 0), src: macString(f, 6), type: (f[12] << 8) | f[13], payload: f.subarray(14) };
}

export function buildEth(dst: Mac, src: Mac, type: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + payload.length);
  f.set(macBytes(dst), 0);
  f.set(macBytes(src), 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, 14);
  return f;
}

// ---------------------------------------------------------------- ARP

export interface Arp {
  op: 1 | 2;
  senderMac: Mac;
  senderIp: Ip4;
  targetMac: Mac;
  targetIp: Ip4;
}

export function parseArp(p: Uint8Array): Arp | null {
  if (p.length < 28) return null;
  // Ethernet (1) / IPv4 (0x0800), 6-byte and 4-byte addresses.
  if (p[0] !== 0 || p[1] !== 1 || p[2] !== 8 || p[3] !== 0 || p[4] !== 6 || p[5] !== 4) return null;
  const op = (p[6] << 8) | p[7];
  if (op !== 1 && op !== 2) return null;
  return { op, senderMac: macString(p, 8), senderIp: ipString(p, 14), targetMac: macString(p, 18), targetIp: ipString(p, 24) };
}

export function buildArp(a: Arp): Uint8Array {
  const p = new Uint8Array(28);
  p.set([0, 1, 8, 0, 6, 4, 0, a.op]);
  p.set(macBytes(a.senderMac), 8);
  p.set(ipBytes(a.senderIp), 14);
  p.set(macBytes(a.targetMac), 18);
  p.set(ipBytes(a.targetIp), 24);
  return p;
}

// ---------------------------------------------------------------- IPv4

export interface Ip4Packet {
  src: Ip4;
  dst: Ip4;
  proto: number;
  payload: Uint8Array;
}

/** An IPv4 packet, checked: version, header length, checksum, total length; fragments refused. */
export function parseIp4(p: Uint8Array): Ip4Packet | null {
  if (p.length < 20 || p[0] >> 4 !== 4) return null;
  const ihl = (p[0] & 0x0f) * 4;
  const total = (p[2] << 8) | p[3];
  if (ihl < 20 || total < ihl || total > p.length) return null;
  if (foldChecksum(onesSum(p, 0, ihl)) !== 0) return null;
  // More-fragments flag or a fragment offset: this client never needs reassembly (MSS fits).
  if ((p[6] & 0x20) !== 0 || (((p[6] & 0x1f) << 8) | p[7]) !== 0) return null;
  return { src: ipString(p, 12), dst: ipString(p, 16), proto: p[9], payload: p.subarray(ihl, total) };
}

export function buildIp4(src: Ip4, dst: Ip4, proto: number, payload: Uint8Array, id: number): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p[0] = 0x45;
  p[2] = p.length >> 8;
  p[3] = p.length & 0xff;
  p[4] = (id >> 8) & 0xff;
  p[5] = id & 0xff;
  p[6] = 0x40; // don't fragment
  p[8] = 64; // TTL
  p[9] = proto;
  p.set(ipBytes(src), 12);
  p.set(ipBytes(dst), 16);
  const c = foldChecksum(onesSum(p, 0, 20));
  p[10] = c >> 8;
  p[11] = c & 0xff;
  p.set(payload, 20);
  return p;
}

/** Sum of the TCP/UDP pseudo-header (RFC 793): addresses, protocol, segment length. */
export function pseudoHeaderSum(src: Ip4, dst: Ip4, proto: number, length: number): number {
  const s = ipBytes(src);
  const d = ipBytes(dst);
  return onesSum(s) + onesSum(d) + proto + length;
}

/**
 * A RARP broadcast from `mac` (as VMware's hypervisors send for a VM that moved host): it
 * carries no news for anyone but tells every switch on the way which port the MAC is on now.
 */
export function macAnnouncement(mac: Uint8Array): Uint8Array {
  const m = macString(mac);
  const p = new Uint8Array(28);
  p.set([0, 1, 8, 0, 6, 4, 0, 3]); // Ethernet/IPv4, RARP request
  p.set(mac, 8);
  p.set(mac, 18);
  return buildEth(BROADCAST, m, ETH_RARP, p);
}
