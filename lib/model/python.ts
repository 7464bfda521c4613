/**
 * Python semantics that leak into the wire format: ids are SHA-1 over `str(target.id) + str(creator.id)` as the
 * Python library computes them, so a JSON number must be rendered the way Python renders what `json.loads`
 * made of it. JSON.parse forgets whether `1.0` was written as a float, so the parser below keeps that.
 */

/** A JSON number written in float notation (`1.0`, `1e16`) whose value JavaScript stores as an integer. */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}

/** A JSON integer outside JavaScript's safe range: Python keeps every digit, so we keep the lexeme. */
export class PyInt {
  constructor(readonly lexeme: string) {}
  toJSON(): number {
    return Number(this.lexeme);
  }
}

/** Python's `repr(float)`: shortest round-trip digits, fixed notation for exponents -4..15, else `1e+16`. */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const exponent = Number(exponentText);
  let body: string;
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      body = `0.${'0'.repeat(-exponent - 1)}${digits}`;
    } else if (digits.length > exponent + 1) {
      body = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
    } else {
      body = `${digits}${'0'.repeat(exponent + 1 - digits.length)}.0`;
    }
  } else {
    const lead = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const sign = exponent < 0 ? '-' : '+';
    body = `${lead}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return negative ? `-${body}` : body;
}

/** Python's `str()` of a JSON scalar after `json.loads`. */
export function pythonStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return value;
  if (value instanceof PyFloat) return pythonFloatRepr(value.value);
  if (value instanceof PyInt) return value.lexeme === '-0' ? '0' : value.lexeme;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? (Object.is(value, -0) ? '0' : value.toFixed(0)) : pythonFloatRepr(value);
  }
  throw new TypeError(`no Python str() for ${typeof value}`);
}

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WS = /[ \t\n\r]*/y;
// JSON forbids raw control characters (U+0000-U+001F) inside strings, hence the character class.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control range is the point of this pattern.
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const LOWER_E = 0x65;
const UPPER_E = 0x45;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
/** Well below the exact parser's limit of 512, so that everything near it is left to the exact parser. */
const PLAIN_MAX_DEPTH = 256;

/**
 * True when JSON.parse gives exactly what the exact parser below would: no number outside a string is written in
 * float notation (a `.`, or an `e` right after a digit) or has 16 or more digits (all numbers up to 15 digits are
 * safe integers), and nesting stays far from the exact parser's depth limit. Strings are skipped with indexOf, so
 * this costs a fraction of a parse. A false answer may be a false alarm (malformed text, `1.5`): the exact parser
 * then decides.
 */
export function holdsOnlyPlainNumbers(text: string): boolean {
  let depth = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c >= ZERO && c <= NINE) {
      digits += 1;
      if (digits >= 16) return false;
      continue;
    }
    if ((c === LOWER_E || c === UPPER_E) && digits > 0) return false;
    digits = 0;
    if (c === QUOTE) {
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end === -1) return false;
        let backslashes = 0;
        while (text.charCodeAt(end - 1 - backslashes) === BACKSLASH) backslashes += 1;
        if (backslashes % 2 === 0) break;
      }
      i = end;
    } else if (c === DOT) {
      return false;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth += 1;
      if (depth > PLAIN_MAX_DEPTH) return false;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return true;
}

/**
 * Standard JSON, except that numbers Python would render differently from JavaScript come back as PyFloat or
 * PyInt. Strings are decoded by JSON.parse itself, so escapes behave exactly as everywhere else. Text without
 * such numbers (almost every body: ids are strings in practice) goes to JSON.parse whole, ten times faster or more;
 * anything JSON.parse refuses goes to the exact parser, whose error message names the position.
 */
export function parsePythonJson(text: string): unknown {
  if (holdsOnlyPlainNumbers(text)) {
    try {
      return JSON.parse(text);
    } catch {
      // The exact parser below throws the JsonSyntaxError.
    }
  }
  return parsePythonJsonExactly(text);
}

/** The parser itself, character by character: the reference the fast path of parsePythonJson is tested against. */
export function parsePythonJsonExactly(text: string): unknown {
  let at = 0;
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at position ${at}`);
  };
  const skip = () => {
    WS.lastIndex = at;
    WS.exec(text);
    at = WS.lastIndex;
  };
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    at = re.lastIndex;
    return m[0];
  };
  const value = (depth: number): unknown => {
    if (depth > 512) fail('Nesting too deep');
    skip();
    const c = text[at];
    if (c === '{') {
      at += 1;
      const out: Record<string, unknown> = {};
      skip();
      if (text[at] === '}') {
        at += 1;
        return out;
      }
      for (;;) {
        skip();
        const key = match(STRING) ?? fail('Expected a string key');
        skip();
        if (text[at] !== ':') fail("Expected ':'");
        at += 1;
        const parsedKey = JSON.parse(key) as string;
        // Same as JSON.parse: a later duplicate key wins. defineProperty avoids the __proto__ setter.
        Object.defineProperty(out, parsedKey, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        skip();
        if (text[at] === ',') {
          at += 1;
          continue;
        }
        if (text[at] === '}') {
          at += 1;
          return out;
        }
        fail("Expected ',' or '}'");
      }
    }
    if (c === '[') {
      at += 1;
      const out: unknown[] = [];
      skip();
      if (text[at] === ']') {
        at += 1;
        return out;
      }
      for (;;) {
        out.push(value(depth + 1));
        skip();
        if (text[at] === ',') {
          at += 1;
          continue;
        }
        if (text[at] === ']') {
          at += 1;
          return out;
        }
        fail("Expected ',' or ']'");
      }
    }
    if (c === '"') return JSON.parse(match(STRING) ?? fail('Invalid string')) as string;
    if (text.startsWith('true', at)) {
      at += 4;
      return true;
    }
    if (text.startsWith('false', at)) {
      at += 5;
      return false;
    }
    if (text.startsWith('null', at)) {
      at += 4;
      return null;
    }
    const lexeme = match(NUMBER) ?? fail('Unexpected token');
    const n = Number(lexeme);
    const floatNotation = /[.eE]/.test(lexeme);
    if (floatNotation) return Number.isInteger(n) ? new PyFloat(n) : n;
    return Number.isSafeInteger(n) ? n : new PyInt(lexeme);
  };
  const result = value(0);
  skip();
  if (at !== text.length) fail('Unexpected data after the JSON value');
  return result;
}

/**
 * JSON text as Python's `json.dumps` would write the value: a PyFloat keeps its float notation (`1.0`, not `1`)
 * and a PyInt every digit. Used for `_source` we write, so that a Python worker or client that reads a document
 * back and recomputes its id from `str(target.id)` gets the id it was stored under.
 */
export function toPythonJson(value: unknown): string {
  return plainJsonValue(value) ? (JSON.stringify(value) ?? 'null') : toPythonJsonExactly(value);
}

/**
 * True when JSON.stringify writes `value` exactly as `toPythonJsonExactly` does: only plain objects, arrays and JSON
 * scalars, no PyFloat or PyInt, nothing with a toJSON of its own. Walking is far cheaper than writing by hand.
 */
function plainJsonValue(value: unknown, depth = 0): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
    case 'function':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (depth > PLAIN_MAX_DEPTH) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!plainJsonValue(item, depth + 1)) return false;
    return true;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const inner of Object.values(value)) if (!plainJsonValue(inner, depth + 1)) return false;
  return true;
}

/** The writer itself, value by value: the reference the fast path of toPythonJson is tested against. */
export function toPythonJsonExactly(value: unknown): string {
  if (value instanceof PyFloat) return pythonFloatRepr(value.value);
  if (value instanceof PyInt) return value.lexeme;
  if (Array.isArray(value)) return `[${value.map((item) => toPythonJsonExactly(item ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members: string[] = [];
    for (const [key, inner] of Object.entries(value)) {
      if (inner === undefined || typeof inner === 'function') continue;
      members.push(`${JSON.stringify(key)}:${toPythonJsonExactly(inner)}`);
    }
    return `{${members.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
