import assert from "node:assert/strict";
import {
  formatIpv4,
  formatIpv4Cidr,
  formatMac,
  inSubnet,
  IPV4_BROADCAST,
  isMulticastMac,
  MAC_BROADCAST,
  parseIpv4,
  parseIpv4Cidr,
  parseMac,
  prefixMask,
  randomLocalMac,
  readIpv4,
  readMac,
  subnetBroadcast,
  writeIpv4,
  writeMac,
} from "./addr.ts";

Deno.test("addr: IPv4 text round trips", () => {
  assert.equal(parseIpv4("10.0.0.1"), 0x0a00_0001);
  assert.equal(parseIpv4("0.0.0.0"), 0);
  assert.equal(parseIpv4("255.255.255.255"), IPV4_BROADCAST);
  assert.equal(parseIpv4("192.168.0.199"), 0xc0a8_00c7);
  assert.equal(formatIpv4(0xc0a8_00c7), "192.168.0.199");
  assert.equal(formatIpv4(0xffff_ffff), "255.255.255.255");
  assert.equal(formatIpv4(0), "0.0.0.0");
});

Deno.test("addr: malformed IPv4 text is undefined", () => {
  for (
    const text of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.0.0.1",
      "1.2.3.-4",
      "a.b.c.d",
      " 1.2.3.4",
      "1.2.3.4/8",
      "1..2.3",
    ]
  ) {
    assert.equal(parseIpv4(text), undefined, text);
  }
});

Deno.test("addr: CIDR text", () => {
  assert.deepEqual(parseIpv4Cidr("10.0.0.2/24"), { address: 0x0a00_0002, prefixLength: 24 });
  assert.deepEqual(parseIpv4Cidr("0.0.0.0/0"), { address: 0, prefixLength: 0 });
  for (const text of ["10.0.0.2", "10.0.0.2/33", "10.0.0.2/", "10.0.0.2/x", "10.0.0/8", "/8"]) {
    assert.equal(parseIpv4Cidr(text), undefined, text);
  }
  assert.equal(formatIpv4Cidr({ address: 0x0a00_0002, prefixLength: 24 }), "10.0.0.2/24");
});

Deno.test("addr: prefix masks, subnets and broadcasts", () => {
  assert.equal(prefixMask(0), 0);
  assert.equal(prefixMask(1), 0x8000_0000);
  assert.equal(prefixMask(24), 0xffff_ff00);
  assert.equal(prefixMask(31), 0xffff_fffe);
  assert.equal(prefixMask(32), 0xffff_ffff);
  const net = { address: 0x0a00_0002, prefixLength: 24 }; // 10.0.0.2/24
  assert.equal(inSubnet(net, 0x0a00_00fe), true);
  assert.equal(inSubnet(net, 0x0a00_0102), false);
  assert.equal(inSubnet({ address: 0xc0a8_0001, prefixLength: 0 }, 0x0808_0808), true);
  assert.equal(inSubnet({ address: 0xc0a8_0001, prefixLength: 32 }, 0xc0a8_0002), false);
  // Addresses with the top bit set stay unsigned in comparisons.
  assert.equal(inSubnet({ address: 0xc0a8_0001, prefixLength: 16 }, 0xc0a8_ffff), true);
  assert.equal(subnetBroadcast(net), 0x0a00_00ff);
  assert.equal(subnetBroadcast({ address: 0xc0a8_0001, prefixLength: 16 }), 0xc0a8_ffff);
  assert.equal(subnetBroadcast({ address: 0xc0a8_0001, prefixLength: 32 }), 0xc0a8_0001);
});

Deno.test("addr: IPv4 read and write are big-endian and unsigned", () => {
  const bytes = Uint8Array.of(0xaa, 0xc0, 0xa8, 0x00, 0xc7, 0xbb);
  assert.equal(readIpv4(bytes, 1), 0xc0a8_00c7);
  const out = new Uint8Array(6);
  writeIpv4(out, 1, 0xffff_fffe);
  assert.deepEqual(out, Uint8Array.of(0, 0xff, 0xff, 0xff, 0xfe, 0));
  assert.equal(readIpv4(out, 1), 0xffff_fffe);
});

Deno.test("addr: MAC text round trips", () => {
  assert.equal(parseMac("52:54:00:12:34:56"), 0x5254_0012_3456);
  assert.equal(parseMac("FF:FF:FF:FF:FF:FF"), MAC_BROADCAST);
  assert.equal(formatMac(0x5254_00ab_cdef), "52:54:00:ab:cd:ef");
  assert.equal(formatMac(MAC_BROADCAST), "ff:ff:ff:ff:ff:ff");
  assert.equal(formatMac(0x0000_0000_0001), "00:00:00:00:00:01");
  for (
    const text of [
      "",
      "52:54:00:12:34",
      "52:54:00:12:34:56:78",
      "52-54-00-12-34-56",
      "5:54:00:12:34:56",
      "gg:54:00:12:34:56",
    ]
  ) {
    assert.equal(parseMac(text), undefined, text);
  }
});

Deno.test("addr: MAC read and write keep all 48 bits", () => {
  const bytes = Uint8Array.of(0xee, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xee);
  assert.equal(readMac(bytes, 1), 0xfffe_fdfc_fbfa);
  const out = new Uint8Array(8);
  writeMac(out, 1, 0x8000_0000_0001);
  assert.deepEqual(out, Uint8Array.of(0, 0x80, 0, 0, 0, 0, 0x01, 0));
  writeMac(out, 1, MAC_BROADCAST);
  assert.equal(readMac(out, 1), MAC_BROADCAST);
});

Deno.test("addr: multicast bit and random local MACs (RFC 7042 §2.1)", () => {
  assert.equal(isMulticastMac(MAC_BROADCAST), true);
  assert.equal(isMulticastMac(0x0100_5e00_0001), true); // IPv4 multicast 224.0.0.1
  assert.equal(isMulticastMac(0x3333_0000_0001), true); // IPv6 multicast
  assert.equal(isMulticastMac(0x5254_0012_3456), false);
  let state = 1;
  const next = () => (state = (state * 1103515245 + 12345) >>> 0);
  for (let i = 0; i < 100; i++) {
    const mac = randomLocalMac(next);
    const first = parseInt(formatMac(mac).slice(0, 2), 16);
    assert.equal(first & 0x01, 0, "unicast");
    assert.equal(first & 0x02, 2, "locally administered");
    assert.ok(mac >= 0 && mac <= MAC_BROADCAST && Number.isInteger(mac));
  }
  assert.equal(randomLocalMac(() => 0xffff_ffff), 0xfeff_ffff_ffff);
  assert.equal(randomLocalMac(() => 0), 0x0200_0000_0000);
});
