import assert from "node:assert/strict";
import { SeededRandom } from "../clock.ts";
import { COOKIE_MSS, SynCookies } from "./syncookie.ts";

const tuple = { local: 0x0a000002, localPort: 80, remote: 0x0a000001, remotePort: 40000 };

Deno.test("syncookie: a cookie round-trips with its MSS (RFC 4987 §3.6)", () => {
  const cookies = new SynCookies(new SeededRandom(3));
  const iss = cookies.make(1000, tuple, 5000, 1460);
  assert.equal(iss >>> 27, 0); // counter of t = 1 s
  assert.equal(COOKIE_MSS[(iss >>> 24) & 7], 1460);
  assert.deepEqual(cookies.check(2000, tuple, 5001, iss + 1), { iss, irs: 5000, mss: 1460 });
  // MSS rounds down to the table.
  const small = cookies.make(1000, tuple, 5000, 1000);
  assert.equal(cookies.check(1000, tuple, 5001, small + 1)?.mss, 536);
});

Deno.test("syncookie: forged, mismatched and expired cookies fail", () => {
  const cookies = new SynCookies(new SeededRandom(3));
  const iss = cookies.make(1000, tuple, 5000, 1460);
  assert.equal(cookies.check(1000, tuple, 5002, iss + 1), undefined, "other client ISN");
  assert.equal(cookies.check(1000, { ...tuple, remotePort: 40001 }, 5001, iss + 1), undefined);
  assert.equal(cookies.check(1000, tuple, 5001, iss + 2), undefined);
  assert.ok(cookies.check(64_000 + 1000, tuple, 5001, iss + 1), "previous period still valid");
  assert.equal(cookies.check(128_000 + 1000, tuple, 5001, iss + 1), undefined, "expired");
  const other = new SynCookies(new SeededRandom(4));
  assert.equal(other.check(1000, tuple, 5001, iss + 1), undefined, "other key");
});
