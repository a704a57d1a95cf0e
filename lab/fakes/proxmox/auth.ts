// SIMULATED: Proxmox VE authentication, both styles Mooring may be configured with:
// - API token: `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`, no CSRF token needed;
// - ticket: POST /access/ticket (username, password) returns data.ticket and
//   data.CSRFPreventionToken; the ticket goes in the PVEAuthCookie cookie, and every write
//   (POST/PUT/DELETE) must also send the CSRFPreventionToken header.
// Tickets are signed and expire (2 h by default); a valid ticket given as password renews it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Router, type FakeRequest } from '../http.js';
import { pveError } from './errors.js';
import { verify } from './params.js';
import type { ProxmoxState } from './state.js';

export const API = '/api2/json';

export interface Identity { userid: string; via: 'ticket' | 'token' }

function hex8(seconds: number): string {
  return seconds.toString(16).toUpperCase().padStart(8, '0');
}

function sign(state: ProxmoxState, text: string): string {
  return createHmac('sha256', state.secret).update(text).digest('base64');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function issue(state: ProxmoxState, userid: string): { ticket: string; csrf: string } {
  const t = hex8(Math.floor(Date.now() / 1000));
  const plain = `PVE:${userid}:${t}`;
  return { ticket: `${plain}::${sign(state, plain)}`, csrf: `${t}:${sign(state, `${t}:${userid}`).slice(0, 43)}` };
}

function fresh(state: ProxmoxState, hex: string): boolean {
  const age = Date.now() - parseInt(hex, 16) * 1000;
  return age >= -60_000 && age < state.ticketTtlMs;
}

/** The user a ticket was issued to, when it is genuine and not expired. */
function ticketUser(state: ProxmoxState, ticket: string): string | undefined {
  const m = /^PVE:([^:]+):([0-9A-F]{8})::(.+)$/.exec(ticket);
  if (!m) return undefined;
  const [, userid, t, sig] = m as unknown as [string, string, string, string];
  if (!same(sig, sign(state, `PVE:${userid}:${t}`)) || !fresh(state, t)) return undefined;
  return state.users.has(userid) ? userid : undefined;
}

function csrfValid(state: ProxmoxState, token: string | undefined, userid: string): boolean {
  const m = token ? /^([0-9A-F]{8}):(.+)$/.exec(token) : null;
  if (!m) return false;
  return same(m[2] as string, sign(state, `${m[1] as string}:${userid}`).slice(0, 43)) && fresh(state, m[1] as string);
}

function header(req: FakeRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function cookie(req: FakeRequest, name: string): string | undefined {
  for (const part of (header(req, 'cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      try { return decodeURIComponent(v); } catch { return v; }
    }
  }
  return undefined;
}

/** Who is calling, or the 401 PVE answers; ticket writes without the CSRF header are refused too. */
export function authenticate(state: ProxmoxState, req: FakeRequest): Identity {
  const authz = header(req, 'authorization');
  if (authz !== undefined) {
    const m = /^PVEAPIToken=([^!\s]+@[^!\s]+![^=\s]+)=(\S+)$/.exec(authz.trim());
    if (!m) throw pveError(401, 'invalid authorization header');
    const [, tokenid, secret] = m as unknown as [string, string, string];
    const expected = state.tokens.get(tokenid);
    if (expected === undefined || !same(secret, expected)) throw pveError(401, 'invalid token value!');
    return { userid: tokenid, via: 'token' };
  }
  const ticket = cookie(req, 'PVEAuthCookie');
  if (ticket === undefined) throw pveError(401, 'No ticket');
  const userid = ticketUser(state, ticket);
  if (!userid) throw pveError(401, 'invalid PVE ticket');
  if (req.method !== 'GET' && req.method !== 'HEAD' && !csrfValid(state, header(req, 'csrfpreventiontoken'), userid)) {
    throw pveError(401, 'Permission denied - invalid csrf token');
  }
  return { userid, via: 'ticket' };
}

export function accessRoutes(state: ProxmoxState): Router {
  return new Router()
    // PVE answers GET /access/ticket with null: it exists so a login form can be shown.
    .on('GET', `${API}/access/ticket`, () => ({ status: 200, body: { data: null } }))
    .on('POST', `${API}/access/ticket`, (req) => {
      const p = verify(req.body, {
        username: { type: 'string' }, password: { type: 'string' }, realm: { type: 'string', optional: true }, otp: { type: 'string', optional: true },
        path: { type: 'string', optional: true }, privs: { type: 'string', optional: true }, 'new-format': { type: 'boolean', optional: true }, 'tfa-challenge': { type: 'string', optional: true },
      });
      const username = String(p.username);
      const userid = username.includes('@') ? username : `${username}@${String(p.realm ?? 'pam')}`;
      const password = String(p.password);
      const known = state.users.get(userid);
      const ok = (known !== undefined && same(password, known)) || ticketUser(state, password) === userid;
      if (!ok) throw pveError(401, 'authentication failure');
      const { ticket, csrf } = issue(state, userid);
      return {
        status: 200,
        body: { data: { username: userid, ticket, CSRFPreventionToken: csrf, cap: { vms: { 'VM.Allocate': 1, 'VM.Clone': 1, 'VM.Config.Cloudinit': 1, 'VM.PowerMgmt': 1, 'VM.Monitor': 1, 'VM.Audit': 1 } } } },
      };
    });
}
