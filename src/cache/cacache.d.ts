/** @module The part of cacache (no bundled types) the disk store uses. */
declare module 'cacache' {
  import type { Readable } from 'node:stream';
  export interface EntryInfo { key: string; integrity: string; path: string; size: number; time: number; metadata: unknown }
  export function ls(cache: string): Promise<Record<string, EntryInfo>>;
  export const get: {
    info(cache: string, key: string): Promise<EntryInfo | null>;
    stream: { byDigest(cache: string, integrity: string, opts?: { size?: number }): Readable };
  };
  export function put(cache: string, key: string, data: Uint8Array, opts?: { metadata?: unknown }): Promise<{ toString(): string }>;
  export const index: { insert(cache: string, key: string, integrity: string, opts: { metadata?: unknown; size?: number }): Promise<unknown> };
  export const rm: {
    entry(cache: string, key: string, opts?: { removeFully?: boolean }): Promise<unknown>;
    content(cache: string, integrity: string): Promise<unknown>;
  };
}
declare module 'cacache/lib/content/write.js' {
  import type { EventEmitter } from 'node:events';
  interface ContentWriteStream extends EventEmitter {
    write(chunk: Uint8Array): boolean;
    end(): void;
    promise(): Promise<void>;
    inputStream: EventEmitter;
  }
  const write: { stream(cache: string, opts?: object): ContentWriteStream };
  export default write;
}
