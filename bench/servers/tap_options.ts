/**
 * The command-line options every TAP-side benchmark server takes (`parseArgs` format): the TAP's
 * name, the responder's address and the kernel side's address.
 * @module
 */

/** `--tap`, `--ip` and `--host-ip`, with the benchmark's defaults. */
export const TAP_SERVER_OPTIONS = {
  tap: { type: "string", default: "gonet0" },
  ip: { type: "string", default: "10.0.0.2/24" },
  "host-ip": { type: "string", default: "10.0.0.1/24" },
} as const;
