/* Present mode (templates/delivery/present.html and presenter.html): one slide at a time, keyboard navigation, and
 * two windows kept in step over a BroadcastChannel named by the page's data-channel. No framework, no build step.
 * Without JavaScript every slide shows, one under the other, and the presenter view lists every slide's notes.
 *
 * Messages: {type: "goto", index} moves every window; {type: "hello"} asks the others for their slide and they
 * answer {type: "state", index}: a window that opens late follows the first one that answers. */
(function () {
  "use strict";

  var SKIP_KEYS_IN = { INPUT: true, SELECT: true, TEXTAREA: true };

  function Deck(root) {
    this.root = root;
    this.role = root.getAttribute("data-deck");
    this.slides = Array.prototype.slice.call(root.querySelectorAll("[data-slide]"));
    this.notes = Array.prototype.slice.call(root.querySelectorAll("[data-slide-notes]"));
    this.nextTitles = Array.prototype.slice.call(root.querySelectorAll("[data-next-title]"));
    this.nextPreview = root.querySelector("[data-next-preview]");
    this.counters = Array.prototype.slice.call(document.querySelectorAll("[data-deck-counter]"));
    this.count = this.slides.length;
    this.index = 0;
    this.channel = null;
    this.timer = this.role === "presenter" ? new Timer(root) : null;
    if (window.BroadcastChannel) {
      try {
        this.channel = new BroadcastChannel(root.getAttribute("data-channel") || "hvlab-present");
      } catch (error) {
        this.channel = null;
      }
    }
  }

  Deck.prototype.start = function () {
    var self = this;
    document.documentElement.classList.add("js-deck");
    Array.prototype.forEach.call(document.querySelectorAll("[data-deck-action], [data-deck-keys], [data-pv-nav]"),
      function (element) { element.hidden = false; });
    var fullscreen = document.querySelector('[data-deck-action="fullscreen"]');
    if (fullscreen && !document.fullscreenEnabled) fullscreen.hidden = true;
    var fromHash = /^#slide-(\d+)$/.exec(window.location.hash || "");
    this.show(fromHash ? parseInt(fromHash[1], 10) - 1 : 0, false);

    document.addEventListener("keydown", function (event) { self.onKey(event); });
    var refit = function () { self.fit(self.slides[self.index]); };
    window.addEventListener("resize", refit);
    document.addEventListener("fullscreenchange", refit);
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-deck-action]") : null;
      if (!button) return;
      var action = button.getAttribute("data-deck-action");
      if (action === "next") self.go(self.index + 1);
      else if (action === "prev") self.go(self.index - 1);
      else if (action === "fullscreen") self.toggleFullscreen();
    });
    var presenterLink = document.querySelector("[data-deck-presenter]");
    if (presenterLink) {
      presenterLink.addEventListener("click", function (event) {
        var opened = window.open(presenterLink.href + "#slide-" + (self.index + 1), "hvlab-presenter",
          "width=1100,height=760");
        if (opened) event.preventDefault();
      });
    }
    if (this.channel) {
      this.channel.onmessage = function (message) { self.onMessage(message.data || {}); };
      this.awaitingState = true;
      this.channel.postMessage({ type: "hello" });
    }
  };

  Deck.prototype.onMessage = function (data) {
    if (data.type === "goto" && typeof data.index === "number") {
      this.show(data.index, false);
      if (this.timer) this.timer.begin();
    } else if (data.type === "hello" && this.channel) {
      this.channel.postMessage({ type: "state", index: this.index, role: this.role });
    } else if (data.type === "state" && typeof data.index === "number" && this.awaitingState) {
      this.awaitingState = false;  // a window that opens late follows the first window that answers
      this.show(data.index, false);
    }
  };

  Deck.prototype.go = function (index) {
    var target = Math.max(0, Math.min(this.count - 1, index));
    if (target === this.index) return;
    this.show(target, true);
    if (this.timer) this.timer.begin();
  };

  Deck.prototype.show = function (index, broadcast) {
    if (!this.count) return;
    this.index = Math.max(0, Math.min(this.count - 1, isNaN(index) ? 0 : index));
    var current = this.index;
    this.slides.forEach(function (slide, i) { slide.hidden = i !== current; });
    this.fit(this.slides[current]);
    this.notes.forEach(function (note, i) { note.hidden = i !== current; });
    this.nextTitles.forEach(function (title, i) { title.hidden = i !== current + 1; });
    if (this.nextPreview) this.preview(this.slides[current + 1]);
    var text = "Slide " + (current + 1) + " of " + this.count;
    this.counters.forEach(function (counter) { counter.textContent = text; });
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "#slide-" + (current + 1));
    }
    Array.prototype.forEach.call(document.querySelectorAll('[data-deck-action="prev"]'),
      function (button) { button.disabled = current === 0; });
    Array.prototype.forEach.call(document.querySelectorAll('[data-deck-action="next"]'),
      function (button) { button.disabled = current === this.count - 1; }, this);
    if (broadcast && this.channel) this.channel.postMessage({ type: "goto", index: current });
  };

  /* Shrink the type of a slide that does not fit the screen (never below 16 px); one still too long scrolls, and is
   * then focusable so that a keyboard can scroll it too. */
  Deck.prototype.fit = function (slide) {
    if (this.role !== "audience" || !slide) return;
    slide.style.fontSize = "";
    slide.removeAttribute("tabindex");
    var size = parseFloat(window.getComputedStyle(slide).fontSize) || 16;
    while (slide.scrollHeight > slide.clientHeight + 1 && size > 16) {
      size = Math.max(16, size * 0.92);
      slide.style.fontSize = size + "px";
    }
    if (slide.scrollHeight > slide.clientHeight + 1) slide.setAttribute("tabindex", "0");
  };

  /* The next slide, copied without ids and with its links turned into text, so the page keeps unique ids and no
   * extra tab stops; the titles list above it says which slide it is. */
  Deck.prototype.preview = function (slide) {
    var pane = this.nextPreview;
    while (pane.firstChild) pane.removeChild(pane.firstChild);
    pane.hidden = !slide;
    if (!slide) return;
    var copy = slide.cloneNode(true);
    copy.hidden = false;
    copy.removeAttribute("data-slide");
    copy.removeAttribute("aria-label");
    Array.prototype.forEach.call([copy].concat(Array.prototype.slice.call(copy.querySelectorAll("[id]"))),
      function (element) { element.removeAttribute("id"); });
    Array.prototype.forEach.call(copy.querySelectorAll("a"), function (link) {
      var span = document.createElement("span");
      span.textContent = link.textContent;
      link.parentNode.replaceChild(span, link);
    });
    pane.appendChild(copy);
  };

  Deck.prototype.onKey = function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    var target = event.target || {};
    if (SKIP_KEYS_IN[target.tagName] || target.isContentEditable) return;
    var onControl = target.tagName === "BUTTON" || target.tagName === "A" || target.tagName === "SUMMARY";
    var key = event.key;
    if ((key === " " || key === "Enter") && onControl) return;  // the focused control's own action
    if (key === "ArrowRight" || key === "ArrowDown" || key === "PageDown" || key === "n" || (key === " " && !event.shiftKey)) {
      this.go(this.index + 1);
    } else if (key === "ArrowLeft" || key === "ArrowUp" || key === "PageUp" || key === "p" || (key === " " && event.shiftKey)) {
      this.go(this.index - 1);
    } else if (key === "Home") {
      this.go(0);
    } else if (key === "End") {
      this.go(this.count - 1);
    } else if (key === "f" && this.role === "audience") {
      this.toggleFullscreen();
    } else if (key === "Escape" && this.role === "audience") {
      if (document.fullscreenElement) return;  // the browser leaves full screen first
      var exit = this.root.getAttribute("data-exit-url");
      if (exit) window.location.assign(exit);
    } else {
      return;
    }
    event.preventDefault();
  };

  Deck.prototype.toggleFullscreen = function () {
    if (!document.fullscreenEnabled) return;
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(function () {});
  };

  /* Elapsed time against the lesson's minutes; kept in sessionStorage so a reload of the presenter view keeps it. */
  function Timer(root) {
    this.planned = (parseInt(root.getAttribute("data-minutes"), 10) || 0) * 60;
    this.key = "hvlab-timer:" + root.getAttribute("data-channel");
    this.elapsedNode = root.querySelector("[data-timer-elapsed]");
    this.stateNode = root.querySelector("[data-timer-state]");
    this.toggleButton = root.querySelector('[data-timer-action="toggle"]');
    var controls = root.querySelector("[data-timer-controls]");
    if (controls) controls.hidden = false;
    var saved = null;
    try { saved = JSON.parse(window.sessionStorage.getItem(this.key) || "null"); } catch (error) { saved = null; }
    this.startedAt = saved && saved.startedAt ? saved.startedAt : null;  // ms since epoch while running
    this.banked = saved && saved.banked ? saved.banked : 0;  // ms counted before the last pause
    var self = this;
    root.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-timer-action]") : null;
      if (!button) return;
      if (button.getAttribute("data-timer-action") === "toggle") self.toggle();
      else self.reset();
    });
    window.setInterval(function () { self.render(); }, 1000);
    this.render();
  }

  Timer.prototype.elapsed = function () {
    return this.banked + (this.startedAt ? Date.now() - this.startedAt : 0);
  };

  Timer.prototype.save = function () {
    try {
      window.sessionStorage.setItem(this.key, JSON.stringify({ startedAt: this.startedAt, banked: this.banked }));
    } catch (error) { /* private mode: the timer simply does not survive a reload */ }
  };

  Timer.prototype.begin = function () {
    if (this.startedAt || this.banked) return;
    this.startedAt = Date.now();
    this.save();
    this.render();
  };

  Timer.prototype.toggle = function () {
    if (this.startedAt) {
      this.banked = this.elapsed();
      this.startedAt = null;
    } else {
      this.startedAt = Date.now();
    }
    this.save();
    this.render();
  };

  Timer.prototype.reset = function () {
    this.startedAt = null;
    this.banked = 0;
    this.save();
    this.render();
  };

  function clock(seconds) {
    var s = Math.floor(seconds);
    var rest = s % 60;
    return Math.floor(s / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  Timer.prototype.render = function () {
    var seconds = this.elapsed() / 1000;
    if (this.elapsedNode) this.elapsedNode.textContent = clock(seconds);
    if (this.toggleButton) this.toggleButton.textContent = this.startedAt ? "Pause" : (seconds ? "Resume" : "Start");
    if (!this.stateNode) return;
    var state;
    if (!this.startedAt && !seconds) state = "Not started: starts with the first slide change.";
    else if (this.planned && seconds > this.planned) state = "Over time by " + clock(seconds - this.planned) + ".";
    else if (this.planned) state = clock(Math.ceil(this.planned - seconds)) + " left." + (this.startedAt ? "" : " Paused.");
    else state = this.startedAt ? "Running." : "Paused.";
    this.stateNode.textContent = state;
    this.stateNode.classList.toggle("is-over", Boolean(this.planned && seconds > this.planned));
  };

  function init() {
    var root = document.querySelector("[data-deck]");
    if (root && !root.hasAttribute("data-deck-ready")) {
      root.setAttribute("data-deck-ready", "");
      new Deck(root).start();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
