export * from "./entries.ts";
export * from "./codec.ts";
export { LogFormatError, ByteReader, ByteWriter } from "./bytes.ts";
export { crc32 } from "./crc32.ts";
