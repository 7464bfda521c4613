/**
 * `target.url` normalisation as the Python library does it (the `requests` requote rule, spec §1.1): decode
 * escapes of unreserved characters, percent-encode everything outside the URI-safe set as UTF-8, keep valid
 * escapes; if an alphanumeric non-hex escape such as `%zz` occurs, quote the whole string with `%` unsafe.
 */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const ALWAYS_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~';

const REQUOTE_SAFE = new Set([...ALWAYS_SAFE, ..."!#$%&'()*+,/:;=?@[]~"]);
const QUOTE_ALL_SAFE = new Set([...ALWAYS_SAFE, ..."!#$&'()*+,/:;=?@[]~"]);
/**
 * Only characters that both steps keep as they are (no `%`, nothing to encode): the answer is the URL itself.
 * Most URLs are like this, and the steps below cost some 25 µs each.
 */
const UNCHANGED = /^[A-Za-z0-9_.\-~!#$&'()*+,/:;=?@[\]]*$/;

function quote(text: string, keep: ReadonlySet<string>): string {
  let out = '';
  for (const char of text) {
    if (keep.has(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8'))
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

class InvalidEscapeError extends Error {}

function unquoteUnreserved(uri: string): string {
  const parts = uri.split('%');
  for (let i = 1; i < parts.length; i += 1) {
    const part = parts[i] ?? '';
    const hex = part.slice(0, 2);
    // Python's str.isalnum() accepts any Unicode letter or digit.
    if ([...hex].length === 2 && hex.length === 2 && /^[\p{L}\p{N}]{2}$/u.test(hex)) {
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new InvalidEscapeError(hex);
      const char = String.fromCharCode(Number.parseInt(hex, 16));
      parts[i] = UNRESERVED.test(char) ? char + part.slice(2) : `%${part}`;
    } else {
      parts[i] = `%${part}`;
    }
  }
  return parts.join('');
}

export function requoteUrl(raw: string): string {
  const uri = raw.trim();
  if (UNCHANGED.test(uri)) return uri;
  try {
    return quote(unquoteUnreserved(uri), REQUOTE_SAFE);
  } catch (error) {
    if (!(error instanceof InvalidEscapeError)) throw error;
    return quote(uri, QUOTE_ALL_SAFE);
  }
}
