// Swagger UI for todo-fcgi: the document nginx serves at /api/openapi.json.
// "Authorize" uses the document's OAuth2 password flow (tokenUrl
// /api/auth/token) or a pasted bearer token; persistAuthorization keeps the
// token across reloads of this page. Nothing is loaded from outside this site:
// validatorUrl null turns off the online validator badge.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/api/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'BaseLayout',
    validatorUrl: null,
    persistAuthorization: true,
    displayRequestDuration: true,
    filter: true,
    oauth2RedirectUrl: new URL('/docs/oauth2-redirect.html', window.location.href).href,
  });
});
