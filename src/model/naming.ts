/** Name conversions shared by every emitter, so both sides agree on every name. */

export function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

export const camelCase = (name: string): string =>
  words(name)
    .map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1)))
    .join('');
export const pascalCase = (name: string): string =>
  words(name)
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('');
export const snakeCase = (name: string): string => words(name).join('_');
export const kebabCase = (name: string): string => words(name).join('-');

const O_PLURAL_S = new Set(['photo', 'piano', 'memo', 'logo', 'halo', 'auto', 'kilo', 'pro', 'demo', 'info']);

export function pluralize(word: string): string {
  const last = words(word).pop() ?? word;
  if (/[^aeiou]o$/i.test(word) && !O_PLURAL_S.has(last)) return word + 'es';
  if (/[^aeiou]y$/i.test(word)) return word.slice(0, -1) + 'ies';
  if (/(s|x|z|ch|sh)$/i.test(word)) return word + 'es';
  return word + 's';
}
