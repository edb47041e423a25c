// Guichet: small enhancements on top of working HTML forms. Nothing here is required.
(function () {
  "use strict";

  // The error summary takes focus so screen readers read it first.
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  });

  // htmx requests carry the CSRF token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });

  // Announce what a swap changed (an inline error, the password rules) in the live region.
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
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    // After an outerHTML swap the target is detached: find its replacement by id.
    var root = target && !target.isConnected && target.id ? document.getElementById(target.id) : target;
    if (!root) { return; }
    var error = root.querySelector(".error-message");
    var announce = root.querySelector("[data-announce]");
    if (error) { live(error.textContent.trim()); } else if (announce) { live(announce.textContent.trim()); }
  });
  document.addEventListener("htmx:sendError", function () {
    live("La vérification n'a pas pu être faite : la connexion semble interrompue. Le formulaire reste utilisable.");
  });
})();
