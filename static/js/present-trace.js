/* A trace presented to the room (templates/delivery/present_trace.html): the page's keys drive the trace viewer
 * (static/js/trace-viewer.js) wherever the focus is: Right, Down, Space or PageDown next step; Left, Up or PageUp back;
 * Home and End first and last; F full screen; Esc back to the course. Keys the viewer handled itself are left alone. */
(function () {
  "use strict";

  var SKIP_KEYS_IN = { INPUT: true, SELECT: true, TEXTAREA: true };
  var ACTIONS = { ArrowRight: "forward", ArrowDown: "forward", PageDown: "forward", " ": "forward",
    ArrowLeft: "back", ArrowUp: "back", PageUp: "back", Home: "first", End: "last" };

  function init() {
    var root = document.querySelector("[data-present-trace]");
    if (!root) return;
    var fullscreen = root.querySelector("[data-present-fullscreen]");
    if (fullscreen && document.fullscreenEnabled) {
      fullscreen.hidden = false;
      fullscreen.addEventListener("click", toggleFullscreen);
    }
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      var target = event.target || {};
      if (SKIP_KEYS_IN[target.tagName] || target.isContentEditable) return;
      if ((event.key === " " || event.key === "Enter") && (target.tagName === "BUTTON" || target.tagName === "A")) return;
      var action = ACTIONS[event.key];
      if (event.key === " " && event.shiftKey) action = "back";
      if (action) {
        var button = root.querySelector('[data-tv-action="' + action + '"]');
        if (button) button.click();
      } else if (event.key === "f") {
        toggleFullscreen();
      } else if (event.key === "Escape") {
        if (document.fullscreenElement) return;
        window.location.assign(root.getAttribute("data-exit-url"));
      } else {
        return;
      }
      event.preventDefault();
    });
  }

  function toggleFullscreen() {
    if (!document.fullscreenEnabled) return;
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(function () {});
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
