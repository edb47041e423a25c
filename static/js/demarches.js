// Démarches: autosave on top of htmx. The step form works without this file (its buttons save).
// - each change is posted by htmx (data-hx-trigger on the form, in order with data-hx-sync="queue all");
// - unsaved answers are kept in localStorage until the server confirms them;
// - a failed save is announced and retried; pending saves are sent when the page is hidden.
(function () {
  "use strict";
  // One click is enough on the submit buttons of the summary.
  document.querySelectorAll("[data-once]").forEach(function (button) {
    button.form.addEventListener("submit", function () { button.disabled = true; });
  });
  var form = document.getElementById("step-form");
  if (!form) { return; }
  // Autosave posts url-encoded answers: the form is multipart for its file fields, which autosave
  // never sends, and an url-encoded body is smaller and cheaper for the server to read.
  htmx.defineExtension("autosave-urlencoded", {
    encodeParameters: function (xhr, parameters) {
      xhr.setRequestHeader("Content-Type", "application/x-www-form-urlencoded");
      return new URLSearchParams(parameters).toString();
    }
  });
  var saveUrl = form.getAttribute("data-hx-post");
  var key = "guichet-brouillon-" + form.getAttribute("data-draft") + "-" +
    form.querySelector('input[name="_step"]').value;
  var status = document.getElementById("save-status");
  var edits = 0;       // changes typed since the page was loaded
  var confirmed = 0;   // changes the server has confirmed
  var inFlight = 0;
  var retryDelay = 5000;
  var retryTimer = null;

  // Heard through the page's one live region, once per change of state: « Brouillon
  // enregistré » after a failure or a conflict, not after every pause in typing.
  var say = (window.Guichet && window.Guichet.announce) || function () {};
  var lastState = null;
  var sessionEnded = false;

  function show(state, html) {
    if (!status) { return; }
    status.innerHTML = '<div class="notice notice--warning save-status" data-save-state="' + state +
      "\">" + html + "</div>";
  }

  function heard() {
    var element = status && status.querySelector("[data-save-state]");
    if (!element) { return; }
    var state = element.getAttribute("data-save-state");
    var stateText = element.querySelector("[data-state-text]");
    var change = element.querySelector("[data-change-text]");
    var parts = [];
    if (state !== lastState) {
      if (lastState === "offline" && state === "saved") { parts.push("La connexion est rétablie."); }
      parts.push((stateText || element).textContent.trim());
    }
    if (change) { parts.push(change.textContent.trim()); }
    lastState = state;
    if (parts.length) { say(parts.join(" ")); }
  }

  function entries() {
    var data = new FormData(form);
    form.querySelectorAll('input[type="file"]').forEach(function (input) { data.delete(input.name); });
    return data;
  }

  function remember() {
    var pairs = [];
    entries().forEach(function (value, name) {
      if (name !== "csrf_token") { pairs.push([name, value]); }
    });
    try { window.localStorage.setItem(key, JSON.stringify(pairs)); } catch (e) { /* private mode */ }
  }

  function forget() {
    try { window.localStorage.removeItem(key); } catch (e) { /* ignore */ }
  }

  function onEdit() {
    edits += 1;
    remember();
  }
  form.addEventListener("input", onEdit);
  form.addEventListener("change", onEdit);

  // Autosave sends answers only: documents are sent by the step's buttons.
  form.addEventListener("htmx:configRequest", function (event) {
    form.querySelectorAll('input[type="file"]').forEach(function (input) {
      delete event.detail.parameters[input.name];
    });
  });
  form.addEventListener("htmx:beforeRequest", function (event) {
    if (sessionEnded) { event.preventDefault(); return; }  // kept on this device until a reload
    inFlight = edits;
  });
  form.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful) { return; }
    var state = status && status.querySelector("[data-save-state]");
    if (state && state.getAttribute("data-save-state") === "saved") {
      confirmed = Math.max(confirmed, inFlight);
      retryDelay = 5000;
      if (confirmed >= edits) { forget(); }
    }
    heard();
  });

  // The server cannot be reached: said once (not at every retry), retried with a growing delay.
  function retry() {
    if (lastState !== "offline") {
      show("offline", "<p><strong>" + "Échec de l'enregistrement du brouillon : la connexion semble interrompue." +
        "</strong> Vos réponses sont gardées sur cet appareil et seront enregistrées dès que la connexion " +
        "reviendra (nouvelles tentatives automatiques).</p>");
      heard();
    }
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(function () { htmx.trigger(form, "autosave:flush"); }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 60000);
  }
  // The server refused the form (its session cookie is gone: « formulaire expiré »): retrying
  // cannot help. Say so and how to continue; the answers stay in this browser.
  function ended() {
    sessionEnded = true;
    window.clearTimeout(retryTimer);
    show("ended", "<p><strong>Votre session a pris fin.</strong> Vos réponses sont gardées sur cet appareil. " +
      '<a href="' + window.location.pathname + '">Rechargez la page</a> (reconnectez-vous si elle vous le demande) : ' +
      "elles seront alors enregistrées dans votre brouillon.</p>");
    heard();
  }
  form.addEventListener("htmx:sendError", retry);
  form.addEventListener("htmx:responseError", function (event) {
    var code = event.detail.xhr ? event.detail.xhr.status : 0;
    if (code === 400 || code === 401 || code === 403) { ended(); } else { retry(); }
  });
  window.addEventListener("online", function () {
    if (edits > confirmed && !sessionEnded) { htmx.trigger(form, "autosave:flush"); }
  });

  // "Garder ma saisie" after a conflict: the server already moved the base, save again.
  document.addEventListener("click", function (event) {
    // (the button is replaced by the result: portal.js moves the focus to that result)
    if (event.target.closest("[data-autosave-keep]")) { htmx.trigger(form, "autosave:flush"); }
  });

  // The page is hidden or closed: send what is not confirmed yet.
  function flush() {
    if (edits > confirmed && !sessionEnded && navigator.sendBeacon) {
      navigator.sendBeacon(saveUrl, new URLSearchParams(entries()));
    }
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); }
  });
  window.addEventListener("pagehide", flush);
  // A real submit saves the step itself: nothing left to keep.
  form.addEventListener("submit", function () { forget(); edits = confirmed; });

  // Answers left unsaved by a previous visit (network cut, tab closed, session expired):
  // post them with the base they were typed on, so the server merges field by field.
  var pending = null;
  try { pending = JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { pending = null; }
  if (pending && pending.length) {
    var data = new URLSearchParams();
    pending.forEach(function (pair) { data.append(pair[0], pair[1]); });
    var meta = document.querySelector('meta[name="csrf-token"]');
    data.append("csrf_token", meta ? meta.content : "");
    fetch(saveUrl, { method: "POST", body: data, credentials: "same-origin",
                     headers: { "HX-Request": "true" } })
      .then(function (response) {
        if (response.status === 404) { forget(); }  // the draft no longer exists
        return response.ok ? response.text() : "";
      })
      .then(function (html) {
        if (html.indexOf('data-save-state="expired"') !== -1) { status.innerHTML = html; heard(); return; }
        if (html) { forget(); }
        if (html.indexOf('data-save-state="saved"') !== -1) { window.location.reload(); }
        else if (html) { status.innerHTML = html; heard(); }
      })
      .catch(function () { /* still offline: kept for the next visit */ });
  }

})();
