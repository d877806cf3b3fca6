/**
 * The CLI's user-facing errors (printed without a stack), in their own module so
 * the command entry imports them without loading the commands that throw them
 * (those are imported when their command runs).
 */
export class InitError extends Error {}
export class DevError extends Error {}
export class InspectError extends Error {}
