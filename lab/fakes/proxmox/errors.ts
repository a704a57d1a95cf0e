// SIMULATED: how the Proxmox VE API fails. Every answer is `{"data": ...}`; an error puts its
// message in the HTTP reason phrase (and, as PVE 8 does, in `message`), and a parameter check
// failure is a 400 "Parameter verification failed." with an `errors` map naming each bad field.
import { HttpError, type FakeResponse } from '../http.js';

export function pveErrorResponse(status: number, message: string): FakeResponse {
  return { status, statusMessage: message, body: { data: null, message: `${message}\n` } };
}

/** A failure with a reason phrase (most PVE errors are 500 with the message of the `die`). */
export function pveError(status: number, message: string): HttpError {
  const r = pveErrorResponse(status, message);
  return new HttpError(status, message, { body: r.body });
}

export function paramError(errors: Record<string, string>): HttpError {
  return new HttpError(400, 'Parameter verification failed.', { body: { data: null, errors, message: 'Parameter verification failed.\n' } });
}
