/**
 * The sync contract's facts in one place (PRODUCT.md): field kinds and access,
 * conflict strategies, wire values, data conventions, device columns and runtime
 * tables, operation names. Nothing here imports anything: the model, the
 * emitters and both runtimes import it.
 */
export * from './columns.js';
export * from './conflicts.js';
export * from './conventions.js';
export * from './errors.js';
export * from './fields.js';
export * from './operations.js';
export * from './scopes.js';
export * from './wire.js';
