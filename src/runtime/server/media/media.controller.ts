/**
 * The HTTP routes of media uploads (see media.ts). Registered by the generated
 * TrackhubModule when an entity has a `@sync.media` field.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { Controller, Get, Head, Inject, Param, Patch, Post, Req, Res } from '@nestjs/common';

import { TrackhubMedia } from './media.js';

@Controller('uploads')
export class TrackhubMediaController {
  constructor(@Inject(TrackhubMedia) private readonly media: TrackhubMedia) {}

  @Post(':entity/:field')
  upload(
    @Param('entity') entity: string,
    @Param('field') field: string,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    return this.media.handleUpload(req, res, entity, field);
  }

  @Post(':entity/:field/sessions')
  createSession(
    @Param('entity') entity: string,
    @Param('field') field: string,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    return this.media.sessions.handleCreate(req, res, entity, field);
  }

  @Head('sessions/:id')
  sessionHead(@Param('id') id: string, @Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return this.media.sessions.handleStatus(req, res, id);
  }

  @Get('sessions/:id')
  sessionStatus(@Param('id') id: string, @Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return this.media.sessions.handleStatus(req, res, id);
  }

  @Patch('sessions/:id')
  appendToSession(@Param('id') id: string, @Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return this.media.sessions.handlePatch(req, res, id);
  }

  @Get(':sha256')
  download(@Param('sha256') sha256: string, @Req() req: IncomingMessage, @Res() res: ServerResponse): Promise<void> {
    return this.media.handleDownload(req, res, sha256);
  }
}
