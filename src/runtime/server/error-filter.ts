/**
 * Errors of GraphQL requests go back to Apollo as they are, without NestJS's
 * ExceptionsHandler logging each expected answer (bad token, unknown entity,
 * stale version) as an ERROR with a stack trace. Faults are masked once, in
 * `TrackhubCore.formatError` and the sync/CRUD observer: answered INTERNAL,
 * logged and counted there. HTTP requests (your own controllers) keep NestJS's
 * default handling.
 */
import { type ArgumentsHost, Catch } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

@Catch()
export class TrackhubErrorFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): unknown {
    if (host.getType<string>() === 'graphql') return exception;
    return super.catch(exception, host);
  }
}
