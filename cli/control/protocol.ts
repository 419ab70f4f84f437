/**
 * The control protocol between `gonet up` and the other subcommands: newline-delimited JSON over
 * a Unix socket. A client sends `{ id, method, params }`; the server answers `{ id, result }` or
 * `{ id, error: { name, message } }`, and may stream `{ id, event }` messages before the answer
 * (UDP datagrams for `udp listen`). Bytes travel base64-encoded.
 * @module
 */

/** A request from a client. */
export interface ControlRequest {
  /** Chosen by the client, echoed in every message about this request. */
  id: number;
  /** Operation name, e.g. `ping`. */
  method: string;
  /** Operation arguments. */
  params: Record<string, unknown>;
}

/** A message from the server. */
export interface ControlMessage {
  /** The request this is about. */
  id: number;
  /** Final answer. */
  result?: unknown;
  /** Final failure. */
  error?: { name: string; message: string };
  /** A streamed event (not final). */
  event?: unknown;
}

/** Reads newline-delimited JSON values from a byte stream. */
export async function* readJsonLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== "") yield JSON.parse(line);
    }
  }
}

/** Encodes bytes for JSON. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** Decodes bytes from JSON. */
export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The control socket path of the stack on `tap` in the network namespace `netnsId`. The
 * namespace's identity is part of the name, so stacks with the same TAP name in different
 * namespaces never collide. `GONET_RUN_DIR` overrides the directory (default `/run/gonet`).
 */
export function controlSocketPath(tap: string, netnsId: string): string {
  const dir = Deno.env.get("GONET_RUN_DIR") ?? "/run/gonet";
  return `${dir}/net-${netnsId}-${tap}.sock`;
}
