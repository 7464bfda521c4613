/**
 * GET /DANE/docs: Swagger UI (swagger-ui-dist's bundle, served beside this file) over /DANE/openapi.json. The
 * document declares the bearer scheme, so "Authorize" takes an API key; the dashboard's key (same tab) is
 * filled in. No validator badge: it would call an outside service.
 */

interface SwaggerUi {
  preauthorizeApiKey?: (scheme: string, value: string) => void;
}
declare const SwaggerUIBundle: ((options: Record<string, unknown>) => SwaggerUi) & {
  presets: { apis: unknown };
};

const ui = SwaggerUIBundle({
  url: '/DANE/openapi.json',
  dom_id: '#app',
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
  presets: [SwaggerUIBundle.presets.apis],
  onComplete: () => {
    const key = sessionStorage.getItem('dane.apiKey');
    if (key) ui.preauthorizeApiKey?.('bearerApiKey', key);
  },
});
