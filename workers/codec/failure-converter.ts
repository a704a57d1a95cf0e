// Loaded by path (DataConverter.failureConverterPath) in the client, the worker and, bundled, in
// the workflow sandbox, but only when the payload codec is on: a failure's message and stack
// trace then travel as an encoded payload, which the codec encrypts. Without a codec they would
// just hide messages from the Web UI behind "Encoded failure", so this stays off with it.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
