// Baseline for bench/backup.ts: what a person would pipe a snapshot into — standard input
// streamed to S3 with the same SDK, part size and queue as Mooring, and nothing else (no checks,
// no encryption, no manifest). Usage: node plain-upload.js ENDPOINT BUCKET KEY ACCESS_KEY_FILE SECRET_KEY_FILE
import { readFileSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

const [endpoint, bucket, key, accessFile, secretFile] = process.argv.slice(2) as [string, string, string, string, string];
const client = new S3Client({
  endpoint, region: 'us-east-1', forcePathStyle: true,
  credentials: { accessKeyId: readFileSync(accessFile, 'utf8').trim(), secretAccessKey: readFileSync(secretFile, 'utf8').trim() },
  requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
});
await new Upload({ client, params: { Bucket: bucket, Key: key, Body: process.stdin }, partSize: 16 * 1024 * 1024, queueSize: 2 }).done();
client.destroy();
