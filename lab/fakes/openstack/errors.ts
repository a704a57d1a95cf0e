// SIMULATED: the error bodies of the OpenStack services, so a client's error handling is tested
// against the shapes it will meet: Keystone `{"error": {code, message, title}}`, Nova and Cinder
// `{"<faultName>": {code, message}}`, Neutron `{"NeutronError": {type, message, detail}}`.
import { STATUS_CODES } from 'node:http';
import { HttpError, type FakeResponse } from '../http.js';

export type Service = 'identity' | 'compute' | 'network' | 'volume' | 'image';

// Nova's wsgi fault names (Cinder uses the same table); anything else is a computeFault.
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound', 405: 'badMethod',
  409: 'conflictingRequest', 413: 'overLimit', 415: 'badMediaType', 429: 'overLimit', 501: 'notImplemented', 503: 'serviceUnavailable',
};

function neutronType(status: number): string {
  const phrase = (STATUS_CODES[status] ?? 'Error').replace(/[^A-Za-z]/g, '');
  return `HTTP${phrase}`;
}

export function errorBody(service: Service, status: number, message: string, type?: string): unknown {
  switch (service) {
    case 'identity':
    case 'image': // Glance's own errors are webob pages; its 401 (keystonemiddleware) is Keystone's shape
      return { error: { code: status, message, title: STATUS_CODES[status] ?? 'Error' } };
    case 'network':
      return { NeutronError: { type: type ?? neutronType(status), message, detail: '' } };
    case 'compute':
    case 'volume':
      return { [FAULT_NAMES[status] ?? 'computeFault']: { code: status, message } };
  }
}

export function serviceOfPath(path: string): Service {
  if (path.startsWith('/compute')) return 'compute';
  if (path.startsWith('/network')) return 'network';
  if (path.startsWith('/volume')) return 'volume';
  if (path.startsWith('/image')) return 'image';
  return 'identity';
}

export function errorResponse(status: number, message: string, path: string): FakeResponse {
  return { status, body: errorBody(serviceOfPath(path), status, message) };
}

/** Throw from a handler: the answer carries the given service's shape (and Neutron's error type). */
export function osError(service: Service, status: number, message: string, type?: string): HttpError {
  return new HttpError(status, message, { body: errorBody(service, status, message, type) });
}

export const UNAUTHORIZED_MESSAGE = 'The request you have made requires authentication.';
