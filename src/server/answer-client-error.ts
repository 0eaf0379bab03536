import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { PipewrightError } from '../core/index.ts';
import { toErrorResponse } from './error-response.ts';

/**
 * Malformed HTTP, or a client too slow to send its request: answered in our envelope (never the
 * framework's) and the connection closed once the answer is out.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // A response already under way on this socket cannot be followed by another status line.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent === true) {
    socket.destroy();
    return;
  }
  const failure =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new PipewrightError({
          code: 'request.timeout',
          message:
            'the request (headers and body) did not arrive in time: server.requestTimeoutMs / server.headersTimeoutMs',
        })
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new PipewrightError({
            code: 'request.too_large',
            status: 431,
            message: 'headers: larger than the server accepts',
            param: 'headers',
          })
        : new PipewrightError({
            code: 'request.invalid',
            message: `malformed HTTP request (${error.code ?? error.message})`,
          });
  const { status, body, headers } = toErrorResponse(failure);
  const text = JSON.stringify(body);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(text)}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${text}`, () => socket.destroy());
}
