import { readFileSync } from 'node:fs';

import Handlebars from 'handlebars';

/** templates/ at the package root, found from this file so it works from any cwd. */
const TEMPLATES = new URL('../../templates/', import.meta.url);
const cache = new Map<string, Handlebars.TemplateDelegate>();

/** Render templates/<name> with the given view. Templates are plain text, not HTML: no escaping. */
export function renderTemplate(name: string, view: unknown): string {
  let template = cache.get(name);
  if (!template) {
    template = Handlebars.compile(readFileSync(new URL(name, TEMPLATES), 'utf8'), { noEscape: true, strict: true });
    cache.set(name, template);
  }
  return template(view);
}
