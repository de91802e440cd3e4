// Swagger UI for /docs, on the document at /openapi.json. Every file comes
// from this service (no CDN), and the online validator badge is off.
window.ui = SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,
});
