/**
 * Byte helpers shared by tests and the kernel-side peers they run.
 * @module
 */

/** A deterministic pattern of `length` bytes: byte i is (i * 7 + length) mod 256. */
export function pattern(length: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7 + length) & 0xff;
  return bytes;
}

/** SHA-256 of `data` as lower-case hex. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data.slice()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
