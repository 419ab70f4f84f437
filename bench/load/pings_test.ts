import assert from "node:assert/strict";
import { parsePingOutput, quantile } from "./pings.ts";

// Captured from iputils ping (`ping -n -c 3 -i 0.2 -W 2 -w 5 -s 56 127.0.0.1`) on this machine.
const THREE_REPLIES = `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.195 ms
64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.042 ms
64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=0.043 ms

--- 127.0.0.1 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 405ms
rtt min/avg/max/mdev = 0.042/0.093/0.195/0.071 ms
`;

Deno.test("parsePingOutput reads every reply time and the summary counts", () => {
  assert.deepEqual(parsePingOutput(THREE_REPLIES), {
    rtts: [0.195, 0.042, 0.043],
    sent: 3,
    received: 3,
  });
});

// Written by hand in the same format: two of three requests unanswered.
Deno.test("parsePingOutput counts loss from the summary line", () => {
  const text = `PING 10.0.0.2 (10.0.0.2) 1472(1500) bytes of data.
1480 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=1.05 ms

--- 10.0.0.2 ping statistics ---
3 packets transmitted, 1 received, 66.6667% packet loss, time 402ms
`;
  assert.deepEqual(parsePingOutput(text), { rtts: [1.05], sent: 3, received: 1 });
});

Deno.test("parsePingOutput of a ping that failed to start is empty", () => {
  assert.deepEqual(parsePingOutput("ping: connect: Network is unreachable\n"), {
    rtts: [],
    sent: 0,
    received: 0,
  });
});

Deno.test("quantile is nearest-rank", () => {
  const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(quantile(values, 0.5), 5); // rank ceil(5) = 5th value
  assert.equal(quantile(values, 0.99), 10); // rank ceil(9.9) = 10th value
  assert.equal(quantile(values, 0.1), 1);
  assert.equal(quantile([7], 0.99), 7);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});
