import files from 'dane:web-assets';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { lambdaHandler } from '../../lib/invocation.ts';

/**
 * GET /DANE/manage (the dashboard), GET /DANE/docs (Swagger UI over /DANE/openapi.json) and their scripts and
 * styles under /DANE/assets/. Every file is in this function's bundle (web/esbuild-plugins.cjs); the Content
 * Security Policy lets the pages talk to their own origin only.
 */

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  // Swagger UI sets style attributes and draws its icons from data: URLs.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const PAGES: Record<string, string> = { '/DANE/manage': 'manage.html', '/DANE/docs': 'docs.html' };

const gzipped = new Map<string, string>();

function respond(name: string, acceptsGzip: boolean, page: boolean): APIGatewayProxyStructuredResultV2 {
  const file = Object.hasOwn(files, name) ? files[name] : undefined;
  if (!file) {
    return {
      statusCode: 404,
      headers: { 'content-type': 'application/json' },
      body: '{"message":"No such file"}',
    };
  }
  const headers: Record<string, string> = {
    'content-type': file.type,
    // Pages are small and name their assets by content hash, so the assets may be cached for good.
    'cache-control': page ? 'no-cache' : 'public, max-age=31536000, immutable',
    'content-security-policy': CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    vary: 'accept-encoding',
  };
  if (!acceptsGzip || file.body.length < 1_024) return { statusCode: 200, headers, body: file.body };
  let body = gzipped.get(name);
  if (body === undefined) {
    body = gzipSync(file.body).toString('base64');
    gzipped.set(name, body);
  }
  return {
    statusCode: 200,
    headers: { ...headers, 'content-encoding': 'gzip' },
    body,
    isBase64Encoded: true,
  };
}

export const handler = lambdaHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(
  async (event) => {
    const path = (event.rawPath ?? '').replace(/\/+$/, '');
    const acceptsGzip = /\bgzip\b/.test(event.headers?.['accept-encoding'] ?? '');
    const page = PAGES[path];
    if (page) return respond(page, acceptsGzip, true);
    const name = event.pathParameters?.file ?? '';
    return respond(name, acceptsGzip, false);
  },
);
