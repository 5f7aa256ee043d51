/**
 * A request body that carries nothing: none at all, JSON `null`, or `{}`. Only a plain object
 * counts as `{}` (an empty array is a value of another shape, left to validation to judge).
 */
export const isEmptyBody = (value: unknown): boolean =>
  value === undefined || value === null || (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype && Object.keys(value).length === 0);
