// One error shape for every route: `{ error: <machine code>, message: <sentence>, details? }`.
// Validation errors name the field and what is wrong with it; server errors say nothing about
// internals (they are logged, without request bodies).
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CredentialError } from '../portal-app/bitrix-auth.js';
import { SessionError } from '../portal-app/session.js';

export class AppError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function describeIssue(context: string, i: AjvIssue): string {
  const at = `${context}${(i.instancePath ?? '').replace(/\//g, '.')}`;
  if (i.keyword === 'additionalProperties') return `${at}: unknown field "${String(i.params?.additionalProperty)}"`;
  if (i.keyword === 'required') return `${at}: missing field "${String(i.params?.missingProperty)}"`;
  if (i.keyword === 'enum' || i.keyword === 'const' || i.keyword === 'anyOf') {
    const allowed = i.params?.allowedValues ?? i.params?.allowedValue;
    return `${at}: ${i.message ?? 'is not an allowed value'}${allowed !== undefined ? ` (${JSON.stringify(allowed)})` : ''}`;
  }
  return `${at}: ${i.message ?? 'is invalid'}`;
}

export function errorHandler(err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof AppError) return reply.code(err.statusCode).send({ error: err.code, message: err.message, ...err.extra });
  if (err instanceof SessionError) return reply.code(401).send({ error: err.code, message: err.message });
  if (err instanceof CredentialError) {
    if (err.statusCode >= 500) req.log.error({ code: err.code, msg: err.message }, 'credential check failed on our side');
    return reply.code(err.statusCode).send({ error: err.code, message: err.message });
  }
  const fe = err as FastifyError & { validation?: AjvIssue[]; validationContext?: string };
  if (fe.validation) {
    const details = fe.validation.map((i) => describeIssue(fe.validationContext ?? 'request', i));
    return reply.code(400).send({ error: 'invalid_request', message: details.join('; '), details });
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 429) return reply.code(429).send({ error: 'rate_limited', message: fe.message });
  if (status === 413) return reply.code(413).send({ error: 'body_too_large', message: 'the request body is larger than this route accepts' });
  if (status === 415) return reply.code(415).send({ error: 'unsupported_media_type', message: fe.message });
  if (status >= 400 && status < 500) return reply.code(status).send({ error: 'bad_request', message: fe.message });
  req.log.error({ err: { type: err.name, message: err.message, stack: err.stack } }, 'request failed');
  return reply.code(500).send({ error: 'internal_error', message: 'something went wrong on our side; it has been logged' });
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = req.url.split('?')[0];
  return reply.code(404).send({ error: 'not_found', message: `there is no ${req.method} ${path}` });
}
