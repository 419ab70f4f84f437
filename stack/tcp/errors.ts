/**
 * Maps connection failures to the error classes Deno users already handle (`Deno.errors.*`).
 * @module
 */

/** Why a connection failed. */
export type TcpError = "refused" | "reset" | "timeout";

/** The `Deno.errors` instance for a failed connection. */
export function connectionError(error: TcpError, peer: string): Error {
  switch (error) {
    case "refused":
      return new Deno.errors.ConnectionRefused(`Cannot connect: ${peer} refused the connection`);
    case "reset":
      return new Deno.errors.ConnectionReset(`Connection to ${peer} was reset by the peer`);
    case "timeout":
      return new Deno.errors.TimedOut(`Connection to ${peer} timed out`);
  }
}

/** The error for using a connection or listener after `close()`. */
export function closedError(what: string): Error {
  return new Deno.errors.BadResource(`Cannot use ${what}: it is closed`);
}
