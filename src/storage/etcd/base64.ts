/** Bytes ↔ the gateway's base64, and keys ↔ UTF-8, with what both browsers and Node have. */
export function toBase64(bytes: Uint8Array): string {
  let s = "";
  // String.fromCharCode takes arguments: a 4 KiB block at once would be fine, 1 MiB would not.
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Throws on text that is not base64 (the caller says which record it was). */
export function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const utf8 = (s: string): Uint8Array => encoder.encode(s);
export const fromUtf8 = (b: Uint8Array): string => decoder.decode(b);
