// Starts Swagger UI on /docs against the server's own OpenAPI document. Kept in a file (not inline)
// because the CSP allows scripts from 'self' only.
window.addEventListener("DOMContentLoaded", () => {
  window.ui = window.SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: false,
  });
});
