import { describe, expect, it } from 'vitest';
import { documentId, taskId } from '../../lib/model/ids.ts';
import { PyFloat, parsePythonJson, pythonFloatRepr, pythonStr } from '../../lib/model/python.ts';
import { requoteUrl } from '../../lib/model/url.ts';

describe('ids (spec Appendix B vectors)', () => {
  it.each([
    ['"ITM123"', '"NISV"', '8fc4285cf003586e102d7da0380f2097c118367b'],
    ['12345', '"TesterHTTP"', '7a6b5b3198f7da229799da89ce7a68ce6b17668b'],
    ['1.0', '"X"', 'c3246342f60f2a9b06026fac7348e50b60a7f0e1'],
    ['"Ü-id"', '"Cré"', 'd31951301de00ed1a659bf0f563c474dea8d5419'],
  ])('document %s + %s', (target, creator, id) => {
    expect(documentId(parsePythonJson(target), parsePythonJson(creator))).toBe(id);
  });

  it('task ids upper-case the key', () => {
    expect(taskId('8fc4285cf003586e102d7da0380f2097c118367b', 'ASR')).toBe(
      '0ec5fb33e0fb88b12f01a8aa88041b51998cb610',
    );
    expect(taskId('7a6b5b3198f7da229799da89ce7a68ce6b17668b', 'shotdetection')).toBe(
      'd5b57697ee9922e37dd3f3a744fbf053006470bb',
    );
  });
});

describe('Python str() of JSON scalars', () => {
  it.each([
    ['1.0', '1.0'],
    ['1', '1'],
    ['-0', '0'],
    ['1e16', '1e+16'],
    ['1.5e16', '1.5e+16'],
    ['1e15', '1000000000000000.0'],
    ['0.0001', '0.0001'],
    ['0.00001', '1e-05'],
    ['123.456', '123.456'],
    ['2.50e2', '250.0'],
    ['12345678901234567890', '12345678901234567890'],
    ['true', 'True'],
    ['false', 'False'],
    ['null', 'None'],
    ['"x"', 'x'],
  ])('%s -> %s', (json, expected) => {
    expect(pythonStr(parsePythonJson(json))).toBe(expected);
  });

  it('renders negative and tiny floats like repr()', () => {
    expect(pythonFloatRepr(-2.5)).toBe('-2.5');
    expect(pythonFloatRepr(1.2345e-7)).toBe('1.2345e-07');
    expect(pythonFloatRepr(-0)).toBe('-0.0');
  });
});

describe('parsePythonJson', () => {
  it('parses like JSON.parse apart from float notation', () => {
    const text = '{"a":[1,2.5,"s\\u00e9",{"b":null}],"c":true,"__proto__":{"x":1}}';
    const parsed = parsePythonJson(text) as Record<string, unknown>;
    expect(JSON.stringify(parsed)).toBe(JSON.stringify(JSON.parse(text)));
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(parsePythonJson('1.0')).toBeInstanceOf(PyFloat);
  });

  it.each(['{', '{"a":}', '[1,]', '01', '"\\x"', '1 2', ''])('rejects %j', (text) => {
    expect(() => parsePythonJson(text)).toThrow();
  });
});

describe('target.url normalisation (spec Appendix B)', () => {
  it.each([
    ['http://a b/vid.mp4', 'http://a%20b/vid.mp4'],
    ['http://x/%7Efoo%20bar', 'http://x/~foo%20bar'],
    ['http://x/é', 'http://x/%C3%A9'],
    ['http://x/50%', 'http://x/50%'],
    ['http://x/%zz%20', 'http://x/%25zz%2520'],
    ['  http://x/y  ', 'http://x/y'],
  ])('%j -> %j', (input, expected) => {
    expect(requoteUrl(input)).toBe(expected);
  });
});
