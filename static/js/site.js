// Site-wide behaviour that the Content-Security-Policy (script-src 'self') keeps out of the templates.
(function () {
  "use strict";

  // Polling (data-hx-trigger="every Ns") asks the server only while the tab is visible: htmx cannot evaluate a
  // trigger filter under the CSP (htmx-config allowEval is false), so the condition lives here.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.visibilityState !== "visible") event.preventDefault();
  });

  // <form data-confirm="Question?">: ask before submitting (replaces inline onsubmit handlers).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
})();
