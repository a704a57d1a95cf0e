// What Mooring records about a snapshot in the bucket: S3 user metadata on the object (everything
// known before the upload starts) and a small manifest object beside it, written only after the
// upload completed with the right bytes (it adds what is known only then: the stored object's size
// and sha256). The manifest is the commit mark: an object without one is an unfinished upload and
// is never listed as verified. See docs/backup-format.md.

export const MANIFEST_SUFFIX = '.manifest.json';
export const MANIFEST_FORMAT = 'mooring-snapshot-manifest/1';

/** Known before the upload; sent as S3 user metadata and repeated in the manifest. */
export interface SnapshotMetadata {
  cluster: string;
  /** etcd member the snapshot was taken from. */
  member: string;
  /** etcd revision at the snapshot (`snapshot status`). */
  revision: number;
  etcdVersion: string;
  /** sha256 (hex) of the plaintext snapshot file as etcd saved it. */
  sha256: string;
  /** ISO 8601 UTC. */
  takenAt: string;
  /** Key id in the encrypted file's header (which key decrypts it). */
  keyId: string;
  /** It passed `snapshot status` and its appended-hash check on the node before upload. */
  verified: boolean;
}

/** One entry of the remote catalogue. */
export interface StoredSnapshot extends SnapshotMetadata {
  key: string;
  /** Bytes stored (ciphertext). */
  size: number;
  /** sha256 (hex) of the stored object, known once it was uploaded; absent without a manifest. */
  storedSha256?: string;
  etag?: string;
  uploadedAt?: string;
  /** The manifest exists: the upload completed with the declared bytes. */
  complete: boolean;
  /** Last conclusive download-decrypt-compare (the snapshot's bytes decided), if one was run. */
  roundTrip?: { ok: boolean; at: string; problem?: string };
  /** A later verification this worker could not complete (its tool, space, time): no verdict on the snapshot. */
  inconclusive?: InconclusiveCheck;
}

export interface InconclusiveCheck { at: string; problem: string }

/**
 * Good to keep and to restore: checked before upload, upload committed, no round trip found it
 * bad. An inconclusive verification is deliberately not consulted: it proves nothing about the
 * snapshot, and retention must not delete a good snapshot because a verifier lacked disk space.
 */
export function isTrusted(s: StoredSnapshot): boolean {
  return s.complete && s.verified && s.roundTrip?.ok !== false;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const VERSION = /^v?\d+\.\d+\.\d+[0-9A-Za-z.+-]*$/;
const SHA = /^[0-9a-f]{64}$/;
const KEY_ID = /^[A-Za-z0-9._:@/+-]{1,128}$/;
const OBJECT_KEY = /^[A-Za-z0-9][A-Za-z0-9._/=+-]{0,900}$/;

/** Refuses metadata that would be wrong or unsafe to store (header values, shell-safe names). */
export function checkMetadata(m: SnapshotMetadata): void {
  const bad = (field: string, why: string) => { throw new TypeError(`snapshot metadata ${field}: ${why}`); };
  if (!NAME.test(m.cluster)) bad('cluster', `${JSON.stringify(m.cluster)} is not a safe name`);
  if (!NAME.test(m.member)) bad('member', `${JSON.stringify(m.member)} is not a safe name`);
  if (!Number.isSafeInteger(m.revision) || m.revision < 0) bad('revision', `${m.revision} is not a non-negative integer`);
  if (!VERSION.test(m.etcdVersion)) bad('etcdVersion', `${JSON.stringify(m.etcdVersion)} is not a version such as 3.4.30`);
  if (!SHA.test(m.sha256)) bad('sha256', 'must be 64 lowercase hex digits');
  if (Number.isNaN(Date.parse(m.takenAt)) || !m.takenAt.endsWith('Z')) bad('takenAt', `${JSON.stringify(m.takenAt)} is not an ISO 8601 UTC time`);
  if (!KEY_ID.test(m.keyId)) bad('keyId', `${JSON.stringify(m.keyId)} is not a key id`);
  if (typeof m.verified !== 'boolean') bad('verified', 'must be true or false');
}

export function checkObjectKey(key: string): void {
  if (!OBJECT_KEY.test(key) || key.includes('..') || key.includes('//')) {
    throw new TypeError(`object key ${JSON.stringify(key)}: use letters, digits and . _ / = + -, no leading '/', no '..' or '//'`);
  }
  if (key.endsWith(MANIFEST_SUFFIX)) throw new TypeError(`object key ${JSON.stringify(key)}: the suffix ${MANIFEST_SUFFIX} is reserved for manifests`);
}

/** `<prefix><cluster>/<20261120T100000Z>-<member>-r<revision>.db.enc`: sorts by time within a cluster. */
export function snapshotKey(prefix: string, m: Pick<SnapshotMetadata, 'cluster' | 'member' | 'revision' | 'takenAt'>): string {
  const compact = new Date(m.takenAt).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const key = `${prefix}${m.cluster}/${compact}-${m.member}-r${m.revision}.db.enc`;
  checkObjectKey(key);
  return key;
}

// S3 user metadata: lowercase ASCII names, string values (x-amz-meta-<name>).
export function toUserMetadata(m: SnapshotMetadata): Record<string, string> {
  return {
    'mooring-format': 'MOORSNAP1',
    cluster: m.cluster,
    member: m.member,
    revision: String(m.revision),
    'etcd-version': m.etcdVersion,
    sha256: m.sha256,
    'taken-at': m.takenAt,
    'key-id': m.keyId,
    verified: String(m.verified),
  };
}

/** Reads user metadata back; undefined when a field is missing (not a Mooring snapshot). */
export function fromUserMetadata(u: Record<string, string> | undefined): SnapshotMetadata | undefined {
  if (!u) return undefined;
  const need = ['cluster', 'member', 'revision', 'etcd-version', 'sha256', 'taken-at', 'key-id', 'verified'];
  if (need.some((k) => u[k] === undefined)) return undefined;
  return {
    cluster: u.cluster!, member: u.member!, revision: Number(u.revision), etcdVersion: u['etcd-version']!,
    sha256: u.sha256!, takenAt: u['taken-at']!, keyId: u['key-id']!, verified: u.verified === 'true',
  };
}

export interface Manifest extends SnapshotMetadata {
  format: typeof MANIFEST_FORMAT;
  key: string;
  size: number;
  storedSha256: string;
  etag?: string;
  uploadedAt: string;
  roundTrip?: { ok: boolean; at: string; problem?: string };
  inconclusive?: InconclusiveCheck;
}

export function parseManifest(text: string, key: string): Manifest {
  const m = JSON.parse(text) as Manifest;
  if (m.format !== MANIFEST_FORMAT || m.key !== key || !SHA.test(m.storedSha256 ?? '') || !Number.isSafeInteger(m.size)) {
    throw new Error(`manifest of ${key} is not a ${MANIFEST_FORMAT} manifest for this object`);
  }
  checkMetadata(m);
  return m;
}
