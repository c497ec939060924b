/* Trace viewer: steps through a precomputed simulator trace (templates/labs/_trace_viewer.html).
 * No framework, no build step (ES2019). Moving between steps only changes what is shown: the events come from the
 * page's json_script and the box of every event from the server's layout (each list item's data-box).
 * Two viewers inside [data-trace-compare] with an alignment json_script step together while "Link" is checked. */
(function () {
  "use strict";

  var SKIP_KEYS_IN = { INPUT: true, SELECT: true, TEXTAREA: true };
  var reducedMotion = window.matchMedia ? window.matchMedia("(prefers-reduced-motion: reduce)") : { matches: false };
  var linkCount = 0;

  function fieldText(value) {
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  function Viewer(root) {
    this.root = root;
    var script = document.getElementById(root.getAttribute("data-trace-script"));
    var data = {};
    try {
      data = JSON.parse(script ? script.textContent : "{}") || {};
    } catch (error) {
      data = {};
    }
    // Per-step values (box, layer stack, mode transition) are computed on the server (labs/trace_layout.py).
    this.events = Array.isArray(data.events) ? data.events : [];
    this.boxIds = Array.isArray(data.boxes) ? data.boxes : [];
    this.stacks = Array.isArray(data.stacks) ? data.stacks : [];
    this.transitions = Array.isArray(data.transitions) ? data.transitions : [];
    this.count = this.events.length;
    this.index = 0;
    this.kind = "";
    this.timer = null;
    this.compare = null;
    this.side = 0;
    this.svg = root.querySelector("[data-tv-svg]");
    this.edge = root.querySelector("[data-tv-edge]");
    this.list = root.querySelector("[data-tv-list]");
    this.items = Array.prototype.slice.call(this.list ? this.list.children : []);
    this.links = this.items.map(function (item) { return item.querySelector("a"); });
    this.live = root.querySelector("[data-tv-live]");
    this.stepInput = root.querySelector("[data-tv-step-input]");
    this.speed = root.querySelector("[data-tv-speed]");
    this.filter = root.querySelector("[data-tv-filter]");
    this.playButton = root.querySelector('[data-tv-action="play"]');
    this.detailN = root.querySelector("[data-tv-detail-n]");
    this.detailSummary = root.querySelector("[data-tv-detail-summary]");
    this.detailFields = root.querySelector("[data-tv-detail-fields]");
    this.boxes = {};
    var boxes = this.svg ? this.svg.querySelectorAll("[data-box]") : [];
    for (var b = 0; b < boxes.length; b++) this.boxes[boxes[b].getAttribute("data-box")] = boxes[b];
    this.bind();
    var controls = root.querySelector("[data-tv-controls]");
    if (controls) controls.hidden = false;
    root.classList.add("tv-enhanced");
    // A link to "#tv-a-step-N" (a check's "where to look") opens the trace at that step.
    var wanted = (window.location.hash || "").match(/^#(.+)-step-(\d+)$/);
    if (wanted && wanted[1] === root.id) {
      var step = parseInt(wanted[2], 10) - 1;
      if (step >= 0 && step < this.count) this.index = step;
    }
    var current = this.index;
    this.links.forEach(function (link, i) { if (link) link.tabIndex = i === current ? 0 : -1; });
    this.render(false);
  }

  Viewer.prototype.boxIdOf = function (i) {
    var item = this.items[i];
    if (item && item.getAttribute("data-box")) return item.getAttribute("data-box");
    return this.boxIds[i] || "";
  };

  Viewer.prototype.boxOf = function (i) {
    var id = this.boxIdOf(i);
    if (this.boxes[id]) return this.boxes[id];
    var band = id.split("--")[0]; // unknown box: fall back to the first box of its band
    var keys = Object.keys(this.boxes);
    for (var k = 0; k < keys.length; k++) if (keys[k].indexOf(band + "--") === 0) return this.boxes[keys[k]];
    return null;
  };

  Viewer.prototype.matches = function (i) {
    return !this.kind || (this.events[i] && this.events[i].kind === this.kind);
  };

  /* The next (dir 1) or previous (dir -1) step that passes the kind filter, or -1. */
  Viewer.prototype.seek = function (from, dir) {
    for (var i = from + dir; i >= 0 && i < this.count; i += dir) if (this.matches(i)) return i;
    return -1;
  };

  Viewer.prototype.linked = function () {
    return this.compare !== null && this.compare.isLinked();
  };

  Viewer.prototype.act = function (action) {
    if (action === "play") return this.togglePlay();
    if (this.linked()) return this.compare.move(this, action);
    var target = -1;
    if (action === "forward") target = this.seek(this.index, 1);
    else if (action === "back") target = this.seek(this.index, -1);
    else if (action === "first") target = this.seek(-1, 1);
    else if (action === "last") target = this.seek(this.count, -1);
    if (target >= 0) this.go(target);
    return target >= 0;
  };

  /* Show step i (0-based). opts.fromCompare: set by the comparison, so it does not sync back. */
  Viewer.prototype.go = function (i, opts) {
    opts = opts || {};
    if (!this.count) return;
    i = Math.max(0, Math.min(this.count - 1, i));
    this.index = i;
    this.render(!opts.quiet && !this.isPlaying());
    if (!opts.fromCompare && this.linked()) this.compare.syncFrom(this, i);
  };

  Viewer.prototype.render = function (announce) {
    if (!this.count) return;
    var i = this.index;
    var event = this.events[i];
    var focusInList = this.list && this.list.contains(document.activeElement);
    // Diagram: the current box and the edge from the previous step's box.
    var lit = this.svg ? this.svg.querySelectorAll(".tv-box.is-current, .tv-box.is-previous") : [];
    for (var k = 0; k < lit.length; k++) lit[k].classList.remove("is-current", "is-previous");
    var box = this.boxOf(i);
    var before = i > 0 ? this.boxOf(i - 1) : null;
    if (box) box.classList.add("is-current");
    if (before && before !== box) before.classList.add("is-previous");
    this.drawEdge(before, box);
    // List: aria-current, visible marker, roving tab stop (the server marked step 1 as shown).
    var shown = this.shown === undefined ? 0 : this.shown;
    if (shown !== i && this.items[shown]) {
      this.items[shown].classList.remove("is-current");
      this.links[shown].removeAttribute("aria-current");
      this.links[shown].tabIndex = -1;
    }
    this.shown = i;
    var item = this.items[i];
    var link = this.links[i];
    if (item) {
      item.classList.add("is-current");
      link.setAttribute("aria-current", "step");
      link.tabIndex = 0;
      this.scrollList(item);
      if (focusInList) link.focus({ preventScroll: true });
    }
    // Detail panel.
    if (this.detailN) this.detailN.textContent = String(i + 1);
    if (this.detailSummary) this.detailSummary.textContent = event.summary || "";
    if (this.detailFields) this.renderFields(event, i);
    if (this.stepInput && document.activeElement !== this.stepInput) this.stepInput.value = String(i + 1);
    if (announce && this.live) {
      this.live.textContent = "Step " + (i + 1) + " of " + this.count + ": " + (event.summary || "");
    }
    if (this.compare) this.compare.showStatus();
  };

  Viewer.prototype.renderFields = function (event, i) {
    var dl = this.detailFields;
    while (dl.firstChild) dl.removeChild(dl.firstChild);
    function add(term, value, className) {
      var dt = document.createElement("dt");
      dt.textContent = term;
      var dd = document.createElement("dd");
      dd.textContent = value;
      if (className) dd.className = className;
      dl.appendChild(dt);
      dl.appendChild(dd);
    }
    add("Layer stack", (this.stacks[i] || []).join(" > "), "tv-stack");
    var transition = this.transitions[i] || "";
    if (transition) add("Mode transition", transition);
    Object.keys(event).forEach(function (key) { add(key, fieldText(event[key])); });
  };

  Viewer.prototype.scrollList = function (item) {
    // Scroll the list box only (never the page), to the nearest edge; instant when reduced motion is asked for.
    var list = this.list;
    if (!list || list.scrollHeight <= list.clientHeight) return;
    var listRect = list.getBoundingClientRect();
    var itemRect = item.getBoundingClientRect();
    var top = null;
    if (itemRect.top < listRect.top) top = list.scrollTop + itemRect.top - listRect.top;
    else if (itemRect.bottom > listRect.bottom) top = list.scrollTop + itemRect.bottom - listRect.bottom;
    if (top === null) return;
    if (reducedMotion.matches || this.isPlaying() || typeof list.scrollTo !== "function") list.scrollTop = top;
    else list.scrollTo({ top: top, behavior: "smooth" });
  };

  Viewer.prototype.drawEdge = function (from, to) {
    var edge = this.edge;
    if (!edge) return;
    if (!from || !to || from === to) {
      edge.setAttribute("visibility", "hidden");
      return;
    }
    var a = geometry(from);
    var b = geometry(to);
    var dx = b.cx - a.cx;
    var dy = b.cy - a.cy;
    var ta = clip(a, dx, dy);
    var tb = clip(b, dx, dy);
    edge.setAttribute("x1", String(a.cx + dx * ta));
    edge.setAttribute("y1", String(a.cy + dy * ta));
    edge.setAttribute("x2", String(b.cx - dx * tb));
    edge.setAttribute("y2", String(b.cy - dy * tb));
    edge.setAttribute("visibility", "visible");
  };

  function geometry(box) {
    return {
      cx: Number(box.getAttribute("data-cx")), cy: Number(box.getAttribute("data-cy")),
      hw: Number(box.getAttribute("data-w")) / 2 + 3, hh: Number(box.getAttribute("data-h")) / 2 + 3,
    };
  }

  /* The fraction of (dx, dy) from a box centre to its border (plus a small gap). */
  function clip(box, dx, dy) {
    var tx = dx ? box.hw / Math.abs(dx) : Infinity;
    var ty = dy ? box.hh / Math.abs(dy) : Infinity;
    return Math.min(tx, ty, 0.5);
  }

  Viewer.prototype.isPlaying = function () {
    return this.linked() ? this.compare.timer !== null : this.timer !== null;
  };

  Viewer.prototype.stepsPerSecond = function () {
    var value = this.speed ? Number(this.speed.value) : 2;
    return value > 0 ? value : 2;
  };

  Viewer.prototype.togglePlay = function () {
    if (this.linked()) return this.compare.togglePlay(this);
    if (this.timer !== null) return this.pause();
    return this.play();
  };

  Viewer.prototype.play = function () {
    var self = this;
    if (this.seek(this.index, 1) < 0) this.act("first"); // at the end: start again
    this.stopTimer();
    this.timer = window.setInterval(function () {
      if (!self.act("forward")) self.pause();
    }, 1000 / this.stepsPerSecond());
    this.setPlayLabel(true);
    return true;
  };

  Viewer.prototype.pause = function () {
    var wasPlaying = this.timer !== null;
    this.stopTimer();
    this.setPlayLabel(false);
    if (wasPlaying) this.render(true); // announce where it stopped
    return true;
  };

  Viewer.prototype.stopTimer = function () {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
  };

  Viewer.prototype.setPlayLabel = function (playing) {
    if (this.playButton) this.playButton.textContent = playing ? "Pause" : "Play";
  };

  Viewer.prototype.setFilter = function (kind) {
    this.kind = kind;
    var shown = 0;
    for (var i = 0; i < this.items.length; i++) {
      var hide = !!kind && this.items[i].getAttribute("data-kind") !== kind;
      this.items[i].hidden = hide;
      if (!hide) shown++;
    }
    if (!this.matches(this.index)) {
      var next = this.seek(this.index, 1);
      if (next < 0) next = this.seek(this.index, -1);
      if (next >= 0) this.go(next, { quiet: true });
    }
    if (this.live) {
      this.live.textContent = (kind ? "Showing " + shown + " " + kind + " steps" : "Showing all " + shown + " steps") +
        "; step " + (this.index + 1) + " of " + this.count + ": " + ((this.events[this.index] || {}).summary || "");
    }
  };

  Viewer.prototype.bind = function () {
    var self = this;
    var root = this.root;
    root.addEventListener("click", function (e) {
      var target = e.target.closest ? e.target.closest("[data-tv-action], a[data-step]") : null;
      if (!target || !root.contains(target)) return;
      if (target.hasAttribute("data-tv-action")) {
        self.act(target.getAttribute("data-tv-action"));
      } else {
        e.preventDefault();
        self.go(Number(target.getAttribute("data-step")) - 1);
      }
    });
    var form = root.querySelector("[data-tv-goto]");
    if (form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var n = parseInt(self.stepInput.value, 10);
        if (isNaN(n)) n = self.index + 1;
        self.go(n - 1);
        self.stepInput.value = String(self.index + 1);
      });
    }
    if (this.filter) this.filter.addEventListener("change", function () { self.setFilter(self.filter.value); });
    if (this.speed) {
      this.speed.addEventListener("change", function () {
        if (self.linked() && self.compare.timer !== null) self.compare.startTimer(self);
        else if (self.timer !== null) self.play();
      });
    }
    root.addEventListener("keydown", function (e) {
      if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
      var target = e.target;
      if (SKIP_KEYS_IN[target.tagName] || target.isContentEditable) return; // never steal keys from form fields
      var handled = true;
      switch (e.key) {
        case "ArrowRight": self.act("forward"); break;
        case "ArrowLeft": self.act("back"); break;
        case "Home": self.act("first"); break;
        case "End": self.act("last"); break;
        case "ArrowDown":
        case "ArrowUp":
          handled = self.moveListFocus(target, e.key === "ArrowDown" ? 1 : -1);
          break;
        case " ":
        case "Spacebar":
          if (target.tagName === "BUTTON") handled = false; // Space presses the focused button
          else self.togglePlay();
          break;
        default: handled = false;
      }
      if (handled) e.preventDefault();
    });
  };

  /* Up/Down inside the event list move focus between the visible items (Enter then jumps there). */
  Viewer.prototype.moveListFocus = function (target, dir) {
    var at = this.links.indexOf(target);
    if (at < 0) return false;
    for (var i = at + dir; i >= 0 && i < this.links.length; i += dir) {
      if (!this.items[i].hidden) {
        this.links[at].tabIndex = at === this.index ? 0 : -1;
        this.links[i].tabIndex = 0;
        this.links[i].focus({ preventScroll: true });
        this.scrollList(this.items[i]);
        return true;
      }
    }
    return true;
  };

  /* Two viewers stepping along align_traces rows: [[index in a or null, index in b or null], ...], 0-based. */
  function Compare(container, viewers, rows) {
    var self = this;
    this.container = container;
    this.viewers = viewers;
    this.timer = null;
    this.rows = rows.length ? rows : defaultRows(viewers);
    this.rowOf = [[], []];
    this.effective = [[], []];
    for (var side = 0; side < 2; side++) {
      var last = null;
      for (var r = 0; r < this.rows.length; r++) {
        var index = this.rows[r][side];
        if (index !== null && index !== undefined) {
          this.rowOf[side][index] = r;
          last = index;
        }
        this.effective[side][r] = last;
      }
      // Leading rows where this side has not started yet show its first step.
      var first = null;
      for (var f = this.rows.length - 1; f >= 0; f--) {
        if (this.rows[f][side] !== null && this.rows[f][side] !== undefined) first = this.rows[f][side];
        if (this.effective[side][f] === null) this.effective[side][f] = first === null ? 0 : first;
      }
    }
    this.row = 0;
    this.checkbox = container.querySelector("input[type=checkbox][data-trace-link]");
    if (!this.checkbox) this.checkbox = this.addCheckbox();
    this.status = container.querySelector("[data-trace-align-status]");
    if (!this.status) {
      this.status = document.createElement("p");
      this.status.className = "tv-align-status";
      this.status.setAttribute("data-trace-align-status", "");
      this.checkbox.parentNode.appendChild(this.status);
    }
    this.checkbox.addEventListener("change", function () {
      self.stopTimer();
      if (self.checkbox.checked) self.syncFrom(self.viewers[0], self.viewers[0].index);
      self.showStatus();
    });
    viewers.forEach(function (viewer, i) {
      viewer.compare = self;
      viewer.side = i;
    });
    container.classList.add("tv-compare-enhanced");
    if (this.isLinked()) this.setRow(this.rowOf[0][0] || 0, false);
    this.showStatus();
  }

  function defaultRows(viewers) {
    var rows = [];
    for (var i = 0; i < Math.max(viewers[0].count, viewers[1].count); i++) {
      rows.push([i < viewers[0].count ? i : null, i < viewers[1].count ? i : null]);
    }
    return rows;
  }

  Compare.prototype.addCheckbox = function () {
    linkCount += 1;
    var wrap = document.createElement("div");
    wrap.className = "tv-link";
    var input = document.createElement("input");
    input.type = "checkbox";
    input.id = "tv-link-" + linkCount;
    input.checked = true;
    input.setAttribute("data-trace-link", "");
    var label = document.createElement("label");
    label.htmlFor = input.id;
    label.textContent = "Link the two traces: step both together, aligned by phase";
    wrap.appendChild(input);
    wrap.appendChild(document.createTextNode(" "));
    wrap.appendChild(label);
    this.container.insertBefore(wrap, this.container.firstChild);
    return input;
  };

  Compare.prototype.isLinked = function () {
    return !!this.checkbox && this.checkbox.checked;
  };

  Compare.prototype.setRow = function (row, announce) {
    this.row = Math.max(0, Math.min(this.rows.length - 1, row));
    for (var side = 0; side < 2; side++) {
      var viewer = this.viewers[side];
      var target = this.effective[side][this.row];
      if (target !== null && target !== undefined && target !== viewer.index) {
        viewer.go(target, { fromCompare: true, quiet: !announce });
      }
    }
    this.showStatus();
  };

  Compare.prototype.matchesRow = function (viewer, r) {
    var index = this.rows[r][viewer.side];
    if (!viewer.kind) return true;
    return index !== null && index !== undefined && viewer.matches(index);
  };

  /* Step both viewers one alignment row (honouring the kind filter of the viewer whose control was used). */
  Compare.prototype.move = function (viewer, action) {
    var target = -1;
    var r;
    if (action === "forward") {
      for (r = this.row + 1; r < this.rows.length; r++) if (this.matchesRow(viewer, r)) { target = r; break; }
    } else if (action === "back") {
      for (r = this.row - 1; r >= 0; r--) if (this.matchesRow(viewer, r)) { target = r; break; }
    } else if (action === "first") {
      for (r = 0; r < this.rows.length; r++) if (this.matchesRow(viewer, r)) { target = r; break; }
    } else if (action === "last") {
      for (r = this.rows.length - 1; r >= 0; r--) if (this.matchesRow(viewer, r)) { target = r; break; }
    }
    if (target < 0 || target === this.row) return false;
    this.setRow(target, this.timer === null);
    return true;
  };

  /* A viewer jumped to step i on its own (list, Go, filter): move the other to the aligned step. */
  Compare.prototype.syncFrom = function (viewer, i) {
    var row = this.rowOf[viewer.side][i];
    if (row === undefined) return;
    this.row = row;
    var other = this.viewers[1 - viewer.side];
    var target = this.effective[other.side][row];
    if (target !== null && target !== undefined && target !== other.index) {
      other.go(target, { fromCompare: true, quiet: this.timer !== null });
    }
    this.showStatus();
  };

  Compare.prototype.togglePlay = function (viewer) {
    if (this.timer !== null) return this.pause();
    if (this.row >= this.rows.length - 1) this.setRow(0, false);
    this.startTimer(viewer);
    return true;
  };

  Compare.prototype.startTimer = function (viewer) {
    var self = this;
    this.stopTimer();
    this.timer = window.setInterval(function () {
      if (!self.move(viewer, "forward")) self.pause();
    }, 1000 / viewer.stepsPerSecond());
    this.viewers.forEach(function (v) { v.setPlayLabel(true); });
  };

  Compare.prototype.pause = function () {
    var wasPlaying = this.timer !== null;
    this.stopTimer();
    this.viewers.forEach(function (v) {
      v.setPlayLabel(false);
      if (wasPlaying) v.render(true);
    });
    return true;
  };

  Compare.prototype.stopTimer = function () {
    if (this.timer !== null) window.clearInterval(this.timer);
    this.timer = null;
    this.viewers.forEach(function (v) {
      v.stopTimer();
      v.setPlayLabel(false);
    });
  };

  Compare.prototype.showStatus = function () {
    if (!this.status) return;
    var a = this.viewers[0];
    var b = this.viewers[1];
    if (!this.isLinked()) {
      this.status.textContent = "Not linked: each trace steps on its own.";
      return;
    }
    var row = this.rows[this.row] || [null, null];
    function side(viewer, index) {
      var name = viewer.root.querySelector("h2") ? viewer.root.querySelector("h2").firstChild.textContent.trim() : "";
      if (index === null || index === undefined) return name + " waits at step " + (viewer.index + 1);
      return name + " step " + (index + 1);
    }
    this.status.textContent = "Aligned row " + (this.row + 1) + " of " + this.rows.length + ": " +
      side(a, row[0]) + ", " + side(b, row[1]) + ".";
  };

  function alignmentOf(container) {
    var scripts = container.querySelectorAll('script[type="application/json"]');
    for (var i = 0; i < scripts.length; i++) {
      if (scripts[i].closest("[data-trace-viewer]")) continue;
      try {
        var rows = JSON.parse(scripts[i].textContent);
        if (Array.isArray(rows)) return rows;
      } catch (error) {
        // not an alignment: keep looking
      }
    }
    return [];
  }

  function init(scope) {
    var roots = Array.prototype.slice.call((scope || document).querySelectorAll("[data-trace-viewer]"));
    if (scope && scope.matches && scope.matches("[data-trace-viewer]")) roots.push(scope);
    for (var i = 0; i < roots.length; i++) {
      if (!roots[i].traceViewer) roots[i].traceViewer = new Viewer(roots[i]);
    }
    var containers = Array.prototype.slice.call((scope || document).querySelectorAll("[data-trace-compare]"));
    if (scope && scope.closest && scope.closest("[data-trace-compare]")) containers.push(scope.closest("[data-trace-compare]"));
    for (var c = 0; c < containers.length; c++) {
      var container = containers[c];
      if (container.traceCompare) continue;
      var viewers = Array.prototype.map.call(container.querySelectorAll("[data-trace-viewer]"), function (root) {
        return root.traceViewer;
      }).filter(Boolean);
      if (viewers.length >= 2) container.traceCompare = new Compare(container, viewers.slice(0, 2), alignmentOf(container));
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(); });
  else init();
  document.addEventListener("htmx:load", function (e) { init(e.target); });
})();
