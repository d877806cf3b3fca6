/**
 * Where uploaded files of `@sync.media` fields live. Files are addressed by
 * tenant + SHA-256 of their bytes, so the same bytes uploaded twice are one file.
 * `LocalDiskStorage` is the default; implement `MediaStorage` to use S3 & co.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface MediaInfo {
  sha256: string;
  size: number;
  /** The content type the file was first uploaded with. */
  contentType: string;
}

export interface StoredMedia extends MediaInfo {
  body: Readable;
}

/** A content-addressed, tenant-scoped file store. */
export interface MediaStorage {
  /** Whether the tenant already holds a file with these bytes. */
  exists(tenantId: string, sha256: string): Promise<boolean>;
  /**
   * Stores `body` (exactly `info.size` bytes hashing to `info.sha256`) for the tenant.
   * Must be atomic: a reader never sees a partial file. Storing an existing hash again is a no-op.
   */
  put(tenantId: string, info: MediaInfo, body: Readable): Promise<void>;
  /** The file, or null when the tenant has none with this hash. */
  get(tenantId: string, sha256: string): Promise<StoredMedia | null>;
}

/** A tenant id as one safe directory name (injective: `%` and `.` are escaped too). */
export function tenantDirName(tenantId: string): string {
  return encodeURIComponent(tenantId).replace(/\./g, '%2E');
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Files on local disk: `<root>/<tenant>/<sha256>` plus `<sha256>.json`
 * (`{ size, contentType }`). Writes go to a temporary name in the same
 * directory, then are renamed into place.
 */
export class LocalDiskStorage implements MediaStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Path of a tenant's file (for tests and operations). */
  filePath(tenantId: string, sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a SHA-256 hex digest: ${sha256}`);
    return path.join(this.root, tenantDirName(tenantId), sha256);
  }

  async exists(tenantId: string, sha256: string): Promise<boolean> {
    try {
      return (await stat(this.filePath(tenantId, sha256))).isFile();
    } catch {
      return false;
    }
  }

  async put(tenantId: string, info: MediaInfo, body: Readable): Promise<void> {
    const target = this.filePath(tenantId, info.sha256);
    if (await this.exists(tenantId, info.sha256)) {
      body.resume();
      return;
    }
    await mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${randomUUID()}.part`;
    try {
      await pipeline(body, createWriteStream(temp, { flags: 'wx' }));
      // Metadata first: a data file that exists always has its metadata.
      await writeFile(`${target}.json`, JSON.stringify({ size: info.size, contentType: info.contentType }));
      await rename(temp, target);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async get(tenantId: string, sha256: string): Promise<StoredMedia | null> {
    if (!SHA256.test(sha256)) return null;
    const file = this.filePath(tenantId, sha256);
    let meta: { size: number; contentType: string };
    try {
      const size = (await stat(file)).size;
      const saved = JSON.parse(await readFile(`${file}.json`, 'utf8')) as { contentType?: unknown };
      meta = { size, contentType: typeof saved.contentType === 'string' ? saved.contentType : 'application/octet-stream' };
    } catch {
      return null;
    }
    return { sha256, ...meta, body: createReadStream(file) };
  }
}
