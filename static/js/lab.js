// Lab page behaviour (kept out of the templates by the Content-Security-Policy).
(function () {
  "use strict";

  // Ctrl+Enter (or Cmd+Enter) in the console runs the command, as the manual says.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!target || target.id !== "console-input" || !target.form) return;
    event.preventDefault();
    if (typeof target.form.requestSubmit === "function") target.form.requestSubmit();
    else target.form.submit();
  });

  function isConsoleForm(elt) {
    return elt instanceof HTMLFormElement && elt.classList.contains("console-form");
  }

  // A console reply (help text, a parse error, a did-you-mean) stays until the next submission: clear it only
  // when a new command is sent, never after the reply has arrived.
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.defaultPrevented || !isConsoleForm(event.detail.elt)) return;
    var feedback = document.getElementById("console-feedback");
    if (feedback) feedback.textContent = "";
  });

  // Once the command is accepted (not retargeted to the error box), empty the textarea for the next one.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!isConsoleForm(form) || !event.detail.successful) return;
    if (event.detail.xhr && event.detail.xhr.getResponseHeader("HX-Retarget")) return;
    var input = form.querySelector("textarea");
    if (input) input.value = "";
  });
})();

// A finished run brings a marker asking for the panels beside the console (score, each check's result, the AzMan
// store): fetch them once; the answer holds only out-of-band swaps.
(function () {
  "use strict";
  function loadPanels(root) {
    var markers = root.querySelectorAll ? root.querySelectorAll("[data-lab-panels]") : [];
    if (root.matches && root.matches("[data-lab-panels]")) markers = [root];
    Array.prototype.forEach.call(markers, function (marker) {
      var url = marker.getAttribute("data-lab-panels");
      marker.removeAttribute("data-lab-panels");
      if (window.htmx && url) window.htmx.ajax("GET", url, { source: marker, swap: "none" });
    });
  }
  document.addEventListener("htmx:load", function (event) { loadPanels(event.target); });
})();
