// Where Mooring finds OpenStack credentials: the way the `openstack` CLI (python-openstackclient on
// openstacksdk's config loader) resolves them, so an operator's working `openstack server list`
// means a working Mooring.
//  - clouds.yaml: $OS_CLIENT_CONFIG_FILE first, then ./, ~/.config/openstack, /etc/openstack
//    (clouds.yaml or clouds.yml); the first file found wins. secure.yaml (same places,
//    $OS_CLIENT_SECURE_FILE first) is merged over the chosen cloud, so passwords can live apart.
//  - The cloud: the inventory's `provider.openstack.cloud` (like `--os-cloud`), else $OS_CLOUD.
//    With neither, the OS_* variables alone describe the cloud ("envvars").
//  - OS_* variables override what the files say (the CLI's options default to them, and options
//    win over clouds.yaml); e.g. OS_PASSWORD with OS_CLOUD keeps a password out of any file.
// The result holds secrets: it lives inside an activity only, never returned, logged or thrown.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { parse as parseYaml } from 'yaml';

export type AuthType = 'password' | 'v3applicationcredential';

export interface DomainRef { id?: string; name?: string }

export interface PasswordCredentials {
  type: 'password';
  user: { id?: string; name?: string; domain: DomainRef };
  password: string;
  project: { id?: string; name?: string; domain: DomainRef };
}

export interface AppCredentialCredentials {
  type: 'v3applicationcredential';
  id?: string;
  name?: string;
  /** With `name`: the credential's owner. */
  user?: { id?: string; name?: string; domain: DomainRef };
  secret: string;
}

export interface CloudConfig {
  /** The clouds.yaml entry, or "envvars". */
  name: string;
  /** The file it came from, for messages (never its content). */
  source: string;
  authUrl: string;
  region?: string;
  interface: 'public' | 'internal' | 'admin';
  credentials: PasswordCredentials | AppCredentialCredentials;
  /** compute_api_version from clouds.yaml / OS_COMPUTE_API_VERSION, if set. */
  computeApiVersion?: string;
}

export interface ConfigEnv {
  env: Record<string, string | undefined>;
  home: string;
  cwd: string;
  /** Reads a file's text, or undefined when it does not exist. */
  readText: (path: string) => Promise<string | undefined>;
}

/** A configuration problem: the message names the file or variable and the fix, never a secret. */
export class CloudConfigError extends Error {
  override name = 'CloudConfigError';
}

type Dict = Record<string, unknown>;

const isDict = (v: unknown): v is Dict => typeof v === 'object' && v !== null && !Array.isArray(v);

function searchPath(dirs: ConfigEnv, names: string[], override: string | undefined): string[] {
  const places = [dirs.cwd, `${dirs.home}/.config/openstack`, '/etc/openstack'];
  return [...(override ? [override] : []), ...places.flatMap((d) => names.map((n) => `${d}/${n}`))];
}

async function firstFile(e: ConfigEnv, paths: string[]): Promise<{ path: string; doc: Dict } | undefined> {
  for (const path of paths) {
    const text = await e.readText(path);
    if (text === undefined) continue;
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      // The YAML error's position is enough; its excerpt could quote a password line.
      const where = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
      throw new CloudConfigError(`${path}: not valid YAML${where ? ` (line ${where})` : ''}: fix the file`);
    }
    if (doc === null || doc === undefined) doc = {};
    if (!isDict(doc)) throw new CloudConfigError(`${path}: must be a mapping with a "clouds:" key`);
    return { path, doc };
  }
  return undefined;
}

function merge(base: Dict, over: Dict): Dict {
  const out: Dict = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isDict(v) && isDict(out[k]) ? merge(out[k] as Dict, v) : v;
  return out;
}

// OS_* variable → clouds.yaml key (auth keys under `auth`). Legacy tenant names as the CLI takes them.
const AUTH_ENV: [string, string][] = [
  ['OS_AUTH_URL', 'auth_url'], ['OS_USERNAME', 'username'], ['OS_USER_ID', 'user_id'], ['OS_PASSWORD', 'password'],
  ['OS_PROJECT_NAME', 'project_name'], ['OS_TENANT_NAME', 'project_name'], ['OS_PROJECT_ID', 'project_id'], ['OS_TENANT_ID', 'project_id'],
  ['OS_USER_DOMAIN_NAME', 'user_domain_name'], ['OS_USER_DOMAIN_ID', 'user_domain_id'],
  ['OS_PROJECT_DOMAIN_NAME', 'project_domain_name'], ['OS_PROJECT_DOMAIN_ID', 'project_domain_id'],
  ['OS_DOMAIN_NAME', 'domain_name'], ['OS_DOMAIN_ID', 'domain_id'], ['OS_DEFAULT_DOMAIN', 'default_domain'],
  ['OS_APPLICATION_CREDENTIAL_ID', 'application_credential_id'], ['OS_APPLICATION_CREDENTIAL_NAME', 'application_credential_name'],
  ['OS_APPLICATION_CREDENTIAL_SECRET', 'application_credential_secret'],
];
const TOP_ENV: [string, string][] = [
  ['OS_REGION_NAME', 'region_name'], ['OS_INTERFACE', 'interface'], ['OS_ENDPOINT_TYPE', 'interface'], ['OS_AUTH_TYPE', 'auth_type'],
  ['OS_IDENTITY_API_VERSION', 'identity_api_version'], ['OS_COMPUTE_API_VERSION', 'compute_api_version'],
];

function fromEnv(env: ConfigEnv['env']): Dict {
  const auth: Dict = {};
  const top: Dict = {};
  // Later entries are the legacy spellings: the modern one wins when both are set.
  for (const [v, k] of [...AUTH_ENV].reverse()) if (env[v]) auth[k] = env[v];
  for (const [v, k] of [...TOP_ENV].reverse()) if (env[v]) top[k] = env[v];
  return Object.keys(auth).length ? { ...top, auth } : top;
}

const str = (d: Dict, k: string): string | undefined => (typeof d[k] === 'string' && d[k] !== '' ? (d[k] as string) : typeof d[k] === 'number' ? String(d[k]) : undefined);

function domain(auth: Dict, prefix: 'user' | 'project'): DomainRef {
  const id = str(auth, `${prefix}_domain_id`) ?? str(auth, 'domain_id');
  const name = str(auth, `${prefix}_domain_name`) ?? str(auth, 'domain_name');
  if (id) return { id };
  if (name) return { name };
  // The CLI's default: the "default" domain (Keystone's own), or OS_DEFAULT_DOMAIN.
  return { id: str(auth, 'default_domain') ?? 'default' };
}

function normaliseAuthType(t: string | undefined, auth: Dict, where: string): AuthType {
  const type = t ?? (auth.application_credential_secret ? 'v3applicationcredential' : 'password');
  if (type === 'password' || type === 'v3password') return 'password';
  if (type === 'v3applicationcredential' || type === 'applicationcredential') return 'v3applicationcredential';
  throw new CloudConfigError(`${where}: auth_type "${type}" is not supported: use password or v3applicationcredential`);
}

function build(name: string, source: string, d: Dict): CloudConfig {
  const auth = isDict(d.auth) ? d.auth : {};
  const where = `${source}${name === 'envvars' ? '' : ` (cloud "${name}")`}`;
  const authUrl = str(auth, 'auth_url');
  if (!authUrl) throw new CloudConfigError(`${where}: no auth_url: set auth.auth_url in clouds.yaml or OS_AUTH_URL`);
  if (!/^https?:\/\//.test(authUrl)) throw new CloudConfigError(`${where}: auth_url "${authUrl}" must be an http(s) URL such as https://keystone.example.org:5000/v3`);
  const idv = str(d, 'identity_api_version');
  if (idv && !/^3(\.\d+)?$/.test(idv)) throw new CloudConfigError(`${where}: identity_api_version ${idv} is not supported: Mooring speaks Keystone v3`);
  const iface = (str(d, 'interface') ?? 'public').replace(/URL$/, '');
  if (!['public', 'internal', 'admin'].includes(iface)) throw new CloudConfigError(`${where}: interface "${iface}" must be public, internal or admin`);
  const type = normaliseAuthType(str(d, 'auth_type'), auth, where);
  let credentials: CloudConfig['credentials'];
  if (type === 'password') {
    const password = str(auth, 'password');
    if (!password) throw new CloudConfigError(`${where}: no password: set auth.password in secure.yaml or OS_PASSWORD (or use an application credential)`);
    const user = { ...(str(auth, 'user_id') ? { id: str(auth, 'user_id') } : {}), ...(str(auth, 'username') ? { name: str(auth, 'username') } : {}), domain: domain(auth, 'user') };
    if (!user.id && !user.name) throw new CloudConfigError(`${where}: no user: set auth.username (or user_id) or OS_USERNAME`);
    const project = { ...(str(auth, 'project_id') ? { id: str(auth, 'project_id') } : {}), ...(str(auth, 'project_name') ? { name: str(auth, 'project_name') } : {}), domain: domain(auth, 'project') };
    // An unscoped token has no catalog: Mooring needs a project to find Nova and Neutron.
    if (!project.id && !project.name) throw new CloudConfigError(`${where}: no project: set auth.project_name (or project_id) or OS_PROJECT_NAME`);
    credentials = { type, user, password, project };
  } else {
    const secret = str(auth, 'application_credential_secret');
    if (!secret) throw new CloudConfigError(`${where}: no application_credential_secret: set it in secure.yaml or OS_APPLICATION_CREDENTIAL_SECRET`);
    const id = str(auth, 'application_credential_id');
    const acName = str(auth, 'application_credential_name');
    if (!id && !acName) throw new CloudConfigError(`${where}: set application_credential_id (or application_credential_name with username) or OS_APPLICATION_CREDENTIAL_ID`);
    const user = str(auth, 'user_id') ? { id: str(auth, 'user_id'), domain: domain(auth, 'user') } : str(auth, 'username') ? { name: str(auth, 'username'), domain: domain(auth, 'user') } : undefined;
    if (!id && !user) throw new CloudConfigError(`${where}: application_credential_name needs the owner: set username (or user_id)`);
    credentials = { type, ...(id ? { id } : { name: acName }), ...(user && !id ? { user } : {}), secret };
  }
  const region = str(d, 'region_name');
  const computeApiVersion = str(d, 'compute_api_version');
  return { name, source, authUrl: authUrl.replace(/\/+$/, ''), interface: iface as CloudConfig['interface'], credentials, ...(region ? { region } : {}), ...(computeApiVersion ? { computeApiVersion } : {}) };
}

/**
 * The cloud Mooring talks to. `cloud` is the inventory's choice (else $OS_CLOUD); `region` the
 * inventory's region, which wins over clouds.yaml's and OS_REGION_NAME (the inventory is what the
 * run shows and records).
 */
export async function resolveCloudConfig(want: { cloud?: string; region?: string }, e: ConfigEnv): Promise<CloudConfig> {
  const cloud = want.cloud ?? (e.env.OS_CLOUD || undefined);
  const envDict = fromEnv(e.env);
  let merged: Dict;
  let source: string;
  let name: string;
  if (cloud) {
    const clouds = await firstFile(e, searchPath(e, ['clouds.yaml', 'clouds.yml'], e.env.OS_CLIENT_CONFIG_FILE || undefined));
    if (!clouds) throw new CloudConfigError(`cloud "${cloud}" was asked for (${want.cloud ? 'provider.openstack.cloud' : 'OS_CLOUD'}) but no clouds.yaml was found in ./, ~/.config/openstack or /etc/openstack (or OS_CLIENT_CONFIG_FILE): create one, or drop the cloud to use the OS_* variables`);
    const entries = isDict(clouds.doc.clouds) ? clouds.doc.clouds : {};
    const entry = entries[cloud];
    if (!isDict(entry)) throw new CloudConfigError(`${clouds.path}: no cloud "${cloud}" (it has: ${Object.keys(entries).join(', ') || 'none'}): fix ${want.cloud ? 'provider.openstack.cloud' : 'OS_CLOUD'} or the file`);
    merged = entry;
    const secure = await firstFile(e, searchPath(e, ['secure.yaml', 'secure.yml'], e.env.OS_CLIENT_SECURE_FILE || undefined));
    const secureEntry = secure && isDict(secure.doc.clouds) ? secure.doc.clouds[cloud] : undefined;
    if (isDict(secureEntry)) merged = merge(merged, secureEntry);
    merged = merge(merged, envDict);
    source = clouds.path;
    name = cloud;
  } else {
    if (!isDict(envDict.auth)) throw new CloudConfigError('no OpenStack credentials: set provider.openstack.cloud (a clouds.yaml entry), or OS_CLOUD, or the OS_* variables (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME ...)');
    merged = envDict;
    source = 'the OS_* environment variables';
    name = 'envvars';
  }
  if (want.region) merged = { ...merged, region_name: want.region };
  return build(name, source, merged);
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** This process's view: its environment, home, working directory and files (what the worker and `mooring doctor` use). */
export function processConfigEnv(over: Partial<ConfigEnv> = {}): ConfigEnv {
  return { env: over.env ?? process.env, home: over.home ?? homedir(), cwd: over.cwd ?? process.cwd(), readText: over.readText ?? readIfExists };
}
