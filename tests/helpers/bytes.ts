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

/** Bytes written as hex digits, whitespace ignored: `hex("4500 0054")` (captures, RFC vectors). */
export function hex(text: string): Uint8Array<ArrayBuffer> {
  const clean = text.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error(`not hex bytes: ${text.slice(0, 40)}`);
  return Uint8Array.from(
    { length: clean.length / 2 },
    (_, i) => parseInt(clean.slice(2 * i, 2 * i + 2), 16),
  );
}

/** SHA-256 of `data` as lower-case hex. */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data.slice()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
