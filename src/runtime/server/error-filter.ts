/**
 * Expected request errors (bad token, unknown entity, stale version, ...) are
 * answers, not server faults: hand them to GraphQL as they are, without
 * NestJS's ExceptionsHandler logging each one as an ERROR with a stack trace.
 */
import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';

import { TrackhubError } from './errors.js';

@Catch(TrackhubError)
export class TrackhubErrorFilter implements GqlExceptionFilter {
  catch(exception: TrackhubError): TrackhubError {
    return exception;
  }
}
