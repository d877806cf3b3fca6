/**
 * trackhub-gen/runtime/server/s3: media in S3-compatible object storage, shared
 * by every server replica (files and resumable upload sessions).
 *
 * A separate entry so that `trackhub-gen/runtime/server` never loads
 * `@aws-sdk/client-s3` (an optional peer dependency: install it to use this).
 *
 *   import { S3Client } from '@aws-sdk/client-s3';
 *   import { s3Media } from 'trackhub-gen/runtime/server/s3';
 *   TrackhubModule.forRoot({ ..., media: { ...s3Media({ client: new S3Client({ region }), bucket: 'photos' }), publicUrl } })
 */
export { s3Media, S3MediaStorage, S3UploadSessionStore } from './media/s3-storage.js';
export type { S3MediaOptions } from './media/s3-storage.js';
