// Guichet: small enhancements on top of working HTML forms. Nothing here is required.
(function () {
  "use strict";

  // Announcements made by scripts go to ONE hidden live region (#live-region), each once.
  // The text goes in a visually hidden slot of the region: the flashed notices stay, and the
  // announcement is heard, not shown as stray text above the page title.
  var live = function (text) {
    var region = document.getElementById("live-region");
    if (!region || !text) { return; }
    var slot = region.querySelector("[data-live-text]");
    if (!slot) {
      slot = document.createElement("p");
      slot.className = "visually-hidden";
      slot.setAttribute("data-live-text", "");
      region.appendChild(slot);
    }
    slot.textContent = "";
    window.setTimeout(function () { slot.textContent = text; }, 50);
  };
  window.Guichet = { announce: live };

  document.addEventListener("DOMContentLoaded", function () {
    // The error summary takes focus so screen readers read it first.
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
    // A message shown at load (« Votre brouillon est enregistré… ») is not heard from a live
    // region that was already there: say it once through the live region.
    var notices = document.querySelector("[data-page-notices]");
    if (notices && !summary) { window.setTimeout(function () { live(notices.textContent.trim()); }, 500); }
  });

  // htmx requests carry the CSRF token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });

  // A swap never leaves the focus on <body>: the element with the same id (htmx restores
  // it), else the first focusable element of what replaced it, else that content itself.
  var focusedIn = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    var active = document.activeElement;
    var target = event.detail.target;
    var inside = active && active !== document.body && target && target.contains(active) && target.id ? target.id : null;
    // A second swap before the first one settles (queued autosaves) finds the focus already on
    // <body>: keep the place the first one must restore, instead of forgetting it.
    if (inside || (active && active !== document.body)) { focusedIn = inside; }
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusedIn) { return; }
    var root = document.getElementById(focusedIn);
    focusedIn = null;
    var active = document.activeElement;
    if (!root || (active && active !== document.body && active.isConnected)) { return; }
    var next = root.querySelector("[data-focus-after-swap], a[href], button, input, select, textarea") || root;
    if (!next.matches("a[href], button, input, select, textarea") && !next.hasAttribute("tabindex")) {
      next.setAttribute("tabindex", "-1");
    }
    next.focus();
  });

  // Announce what a swap changed (an inline error, the password rules) in the live region.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    // After an outerHTML swap the target is detached: find its replacement by id.
    var root = target && !target.isConnected && target.id ? document.getElementById(target.id) : target;
    if (!root || root.closest("[data-own-announcements]")) { return; }
    var error = root.querySelector(".error-message");
    var announce = root.querySelector("[data-announce]");
    if (error) { live(error.textContent.trim()); } else if (announce) { live(announce.textContent.trim()); }
  });

  // A check that cannot reach the server: said once, and its recovery once. Background
  // polling (the badge) and forms that announce their own saves (a démarche step) stay quiet.
  var unreachable = false;
  var quiet = function (elt) {
    return !elt || elt.closest("[data-own-announcements], [data-background]");
  };
  document.addEventListener("htmx:sendError", function (event) {
    if (quiet(event.detail.elt) || unreachable) { return; }
    unreachable = true;
    live("La vérification n'a pas pu être faite : la connexion semble interrompue. Le formulaire reste utilisable.");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!unreachable || !event.detail.successful || quiet(event.detail.elt)) { return; }
    unreachable = false;
    live("La connexion est rétablie.");
  });
})();
