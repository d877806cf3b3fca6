export { LocalDiskStorage, tenantDirName } from './storage.js';
export type { MediaInfo, MediaStorage, StoredMedia } from './storage.js';
export { DEFAULT_MEDIA_CONTENT_TYPES, DEFAULT_MEDIA_MAX_BYTES, MediaError } from './http.js';
export type { MediaErrorCode, MediaLimits, MediaOptions, UploadResult } from './http.js';
export { TrackhubMedia } from './media.js';
export { TrackhubMediaController } from './media.controller.js';
export { ResumableUploads } from './resumable.js';
export { DEFAULT_UPLOAD_SESSION_TTL_MS, receiveChunk, UploadSessionStore } from './sessions.js';
export type { AppendOutcome, ChunkSource, UploadSession, UploadSessionBackend, UploadSessionResult } from './sessions.js';
