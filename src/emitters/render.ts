import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import Handlebars from 'handlebars';

/** templates/ at the package root, found from this file so it works from any cwd. */
const TEMPLATES = new URL('../../templates/', import.meta.url);
const cache = new Map<string, Handlebars.TemplateDelegate>();
/** The compile options; scripts/precompile-templates.mjs uses the same. */
const OPTIONS = { noEscape: true, strict: true } as const;

type Precompiled = Record<string, { text: string; spec: TemplateSpecification }>;
type TemplateSpecification = Parameters<typeof Handlebars.template>[0];

/** dist/emitters/templates.precompiled.cjs (written by `npm run build`); none when running from src/. */
let precompiled: Precompiled | null | undefined;
function precompiledTemplates(): Precompiled | null {
  if (precompiled === undefined) {
    try {
      precompiled = createRequire(import.meta.url)('./templates.precompiled.cjs') as Precompiled;
    } catch {
      precompiled = null;
    }
  }
  return precompiled;
}

/** Render templates/<name> with the given view. Templates are plain text, not HTML: no escaping. */
export function renderTemplate(name: string, view: unknown): string {
  let template = cache.get(name);
  if (!template) {
    const text = readFileSync(new URL(name, TEMPLATES), 'utf8');
    const built = precompiledTemplates()?.[name];
    // A precompiled template is used only while the file has the text it was built from.
    template = built && built.text === text ? Handlebars.template(built.spec) : Handlebars.compile(text, OPTIONS);
    cache.set(name, template);
  }
  return template(view);
}
