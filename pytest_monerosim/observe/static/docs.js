// The interactive API docs: swagger-ui (vendored) on /api/openapi.json, calls carry the run's token.
"use strict";
const token = (document.querySelector('meta[name="monerosim-token"]') || {}).content || "";
window.ui = SwaggerUIBundle({
  url: "/api/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  requestInterceptor: (req) => { if (token) req.headers["Authorization"] = "Bearer " + token; return req; },
});
