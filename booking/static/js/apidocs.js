// Starts Swagger UI on the spec URL the page names (no inline script: the CSP forbids it).
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: container.dataset.specUrl, dom_id: "#swagger-ui" });
});
