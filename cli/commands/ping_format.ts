/**
 * Output of `gonet ping` in the iputils format, so scripts written for `ping` read it unchanged.
 * @module
 */

/** Formats a round-trip time the way iputils does: 3 significant decimals below 1 ms, fewer above. */
export function formatRtt(ms: number): string {
  // The steps are chosen after rounding, as iputils does (9.996 ms prints 10.0, not 10.00).
  if (ms >= 99.95) return ms.toFixed(0);
  if (ms >= 9.995) return ms.toFixed(1);
  if (ms >= 0.9995) return ms.toFixed(2);
  return ms.toFixed(3);
}

/** Running statistics of a ping session. */
export class PingSummary {
  /** Requests sent. */
  transmitted = 0;
  /** Replies received. */
  received = 0;
  /** ICMP errors received instead of replies. */
  errors = 0;
  readonly #rtts: number[] = [];

  /** Records one reply's round-trip time. */
  addReply(rttMs: number): void {
    this.received++;
    this.#rtts.push(rttMs);
  }

  /** Loss in percent. */
  get lossPercent(): number {
    return this.transmitted === 0
      ? 0
      : ((this.transmitted - this.received) * 100) / this.transmitted;
  }

  /** min, avg, max and mdev (population standard deviation, as iputils) in ms. */
  rttStats(): { min: number; avg: number; max: number; mdev: number } | undefined {
    if (this.#rtts.length === 0) return undefined;
    let sum = 0;
    let sumSquares = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const rtt of this.#rtts) {
      sum += rtt;
      sumSquares += rtt * rtt;
      min = Math.min(min, rtt);
      max = Math.max(max, rtt);
    }
    const avg = sum / this.#rtts.length;
    const mdev = Math.sqrt(Math.max(0, sumSquares / this.#rtts.length - avg * avg));
    return { min, avg, max, mdev };
  }

  /** The closing lines, e.g. `3 packets transmitted, 3 received, 0% packet loss, time 2003ms`. */
  lines(destination: string, elapsedMs: number): string[] {
    const loss = Number(this.lossPercent.toPrecision(6));
    const errors = this.errors > 0 ? `, +${this.errors} errors` : "";
    const out = [
      "",
      `--- ${destination} ping statistics ---`,
      `${this.transmitted} packets transmitted, ${this.received} received${errors}, ${loss}% packet loss, time ${
        Math.round(elapsedMs)
      }ms`,
    ];
    const rtt = this.rttStats();
    if (rtt) {
      out.push(
        `rtt min/avg/max/mdev = ${rtt.min.toFixed(3)}/${rtt.avg.toFixed(3)}/${rtt.max.toFixed(3)}/${
          rtt.mdev.toFixed(3)
        } ms`,
      );
    }
    return out;
  }
}

/** iputils' wording of ICMP errors received instead of an echo reply. */
export function describeIcmpError(type: number, code: number): string {
  if (type === 3) {
    const texts = [
      "Destination Net Unreachable",
      "Destination Host Unreachable",
      "Destination Protocol Unreachable",
      "Destination Port Unreachable",
      "Frag needed and DF set",
    ];
    return texts[code] ?? `Dest Unreachable, Bad Code: ${code}`;
  }
  if (type === 11) return code === 0 ? "Time to live exceeded" : "Frag reassembly time exceeded";
  return `Bad ICMP type: ${type}`;
}
