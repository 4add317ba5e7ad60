// Exact-shape assertions for event payloads and hub results.
//
// An expected shape is a plain value in which some positions hold a matcher
// (`uuid`, `timestamp`, `nullOr(...)`, ...). `assertShape` compares with
// `assert.deepStrictEqual` after putting each matcher's label in both the
// expected and (when it matches) the actual value, so a failure shows the usual
// object diff: extra or missing keys, wrong literals and non-matching typed
// positions all appear in it. Objects must have exactly the expected keys
// (CONTRACT §1: every field present, absent optional values are null).

import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';

class Matcher {
  /**
   * @param {string} label what the diff shows for this position
   * @param {(value: unknown) => boolean} test
   * @param {{ mayBeAbsent?: boolean }} [options] whether the key may be missing
   */
  constructor(label, test, { mayBeAbsent = false } = {}) {
    this.label = label;
    this.test = test;
    this.mayBeAbsent = mayBeAbsent;
  }
}

/** An array whose order the contract does not fix; compared after sorting by `key`. */
class Unordered {
  constructor(items, key) {
    this.items = items;
    this.key = key;
  }

  sort(values) {
    return [...values].sort((a, b) => {
      const ka = String(this.key(a));
      const kb = String(this.key(b));
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]00:00)$/;
/** Timestamps must be "now"-ish: catches zero dates, local times and unit mix-ups. */
const CLOCK_TOLERANCE_MS = 10 * 60 * 1000;

export const uuid = new Matcher('<uuid>', (v) => typeof v === 'string' && UUID.test(v));

export const timestamp = new Matcher(
  '<recent RFC 3339 UTC timestamp>',
  (v) =>
    typeof v === 'string' &&
    RFC3339_UTC.test(v) &&
    Math.abs(Date.now() - Date.parse(v)) < CLOCK_TOLERANCE_MS,
);

export const integer = new Matcher('<integer>', (v) => Number.isInteger(v));

export const positiveInteger = new Matcher('<positive integer>', (v) => Number.isInteger(v) && v > 0);

export const nonEmptyString = new Matcher('<non-empty string>', (v) => typeof v === 'string' && v.length > 0);

/** `null`, or a value of the given shape. */
export function nullOr(shape) {
  return new Matcher(`<null or ${labelOf(shape)}>`, (v) => v === null || matches(v, shape));
}

/** A key that may be missing; when present its value must have the given shape. */
export function absentOr(shape) {
  return new Matcher(`<absent or ${labelOf(shape)}>`, (v) => matches(v, shape), { mayBeAbsent: true });
}

/** A value for which `test` holds; `label` names it in diffs. */
export function satisfying(label, test) {
  return new Matcher(`<${label}>`, test);
}

/** The same elements in any order; `key` gives the sort key of an element. */
export function unordered(items, key = (v) => v) {
  return new Unordered(items, key);
}

/** Whether `actual` has the given shape. */
export function matches(actual, shape) {
  return isDeepStrictEqual(normalize(actual, shape), view(shape));
}

/** Asserts that `actual` has exactly the given shape. */
export function assertShape(actual, shape, message) {
  assert.deepStrictEqual(normalize(actual, shape), view(shape), message);
}

function labelOf(shape) {
  if (shape instanceof Matcher) return shape.label.slice(1, -1);
  return JSON.stringify(view(shape));
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The expected value as the diff shows it: matchers replaced by their labels. */
function view(shape) {
  if (shape instanceof Matcher) return shape.label;
  if (shape instanceof Unordered) return shape.sort(shape.items).map(view);
  if (Array.isArray(shape)) return shape.map(view);
  if (isPlainObject(shape)) {
    return Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, view(v)]));
  }
  return shape;
}

/** The actual value with every position that satisfies its matcher replaced by the label. */
function normalize(actual, shape) {
  if (shape instanceof Matcher) return shape.test(actual) ? shape.label : actual;
  if (shape instanceof Unordered) {
    if (!Array.isArray(actual)) return actual;
    const expected = shape.sort(shape.items);
    return shape.sort(actual).map((v, i) => (i < expected.length ? normalize(v, expected[i]) : v));
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(actual)) return actual;
    return actual.map((v, i) => (i < shape.length ? normalize(v, shape[i]) : v));
  }
  if (isPlainObject(shape)) {
    if (!isPlainObject(actual)) return actual;
    const out = {};
    for (const [key, value] of Object.entries(actual)) {
      out[key] = Object.hasOwn(shape, key) ? normalize(value, shape[key]) : value;
    }
    for (const [key, expected] of Object.entries(shape)) {
      if (!Object.hasOwn(actual, key) && expected instanceof Matcher && expected.mayBeAbsent) {
        out[key] = expected.label;
      }
    }
    return out;
  }
  return actual;
}
