// Lab page: Ctrl+Enter (or Cmd+Enter) in the console runs the command, as the manual says.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!target || target.id !== "console-input" || !target.form) return;
    event.preventDefault();
    if (typeof target.form.requestSubmit === "function") target.form.requestSubmit();
    else target.form.submit();
  });
})();
