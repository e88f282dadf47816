/* Error answers to htmx requests, on every page: nothing a person typed or chose is lost.
 *
 * htmx swaps no error response, so the form that sent the request stays as it was.
 * This shows the server's fragment (views/errors.py) in a problem box beside that
 * form: the card's own [data-problem] box, or one made before the form. A whole
 * page is never put there (a debug error page, a proxy's): a plain sentence for
 * its status instead.
 * 401, signed out: the fragment is a sign-in form, posted here with fetch; the
 *   new session's CSRF token replaces the page's, and the person presses Enter
 *   (or sends the form again) with their choices still in it.
 * 403 for a stale CSRF token (signed in or out in another tab): the fragment
 *   carries the current token; the request is sent again once with it.
 * 503, the database down, and no answer at all: said in the box; try again.
 */
(function () {
  "use strict";

  var TEXT = {
    0: "The server cannot be reached; nothing was saved and your choices are kept. Try again when you are back online.",
    401: "You were signed out; your choices are kept. Sign in again in another tab, then try again.",
    403: "This was refused (error 403); nothing was saved. Reload the page.",
    404: "Not found (error 404): it may have been removed. Reload the page.",
    413: "What you sent is too large (error 413); nothing was saved.",
    429: "Too many requests (error 429); wait a moment, then try again.",
    503: "Could not save — your choices are kept. Try again (press Enter).",
  };

  function sentence(status) {
    if (TEXT[status]) return TEXT[status];
    return "The server failed (error " + status + "); nothing was saved and your " +
      "choices are kept. Try again, and tell a manager if it goes on.";
  }

  // The box beside the element that sent the request: a card's own, or one made
  // just before its form (never inside it: the sign-in card holds a form).
  function problemBox(elt, make) {
    var scope = elt && elt.closest && elt.closest("#span-card, [data-problem-scope]");
    var box = scope && scope.querySelector("[data-problem]");
    if (box) return box;
    var anchor = (elt && elt.closest && elt.closest("form")) || elt || document.querySelector("main");
    if (!anchor || !anchor.parentNode) return null;
    var before = anchor.previousElementSibling;
    if (before && before.hasAttribute("data-problem")) return before;
    if (!make) return null;
    box = document.createElement("div");
    box.className = "problem";
    box.setAttribute("role", "alert");
    box.setAttribute("data-problem", "");
    box.setAttribute("data-made-here", "");
    anchor.parentNode.insertBefore(box, anchor);
    return box;
  }

  function show(box, nodes) {
    box.textContent = "";
    box.classList.remove("resolved");
    nodes.forEach(function (node) { box.appendChild(node); });
    box.hidden = false;
  }

  function paragraph(text) {
    var p = document.createElement("p");
    p.textContent = text;
    return p;
  }

  // The server's fragment as nodes, or null for anything else (a whole page, JSON,
  // an empty body): a page must never be nested in a card.
  function fragment(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    var body = xhr.responseText || "";
    if (type.indexOf("text/plain") === 0 && body.trim()) return [paragraph(body.trim())];
    if (type.indexOf("text/html") !== 0 || /<html[\s>]|<!doctype|<body[\s>]/i.test(body)) return null;
    var doc = new DOMParser().parseFromString(body, "text/html");
    var root = doc.body.querySelector("[data-error-status]");
    return root ? [document.importNode(root, true)] : null;
  }

  function setToken(token) {
    document.querySelectorAll("input[name=csrfmiddlewaretoken]").forEach(function (input) {
      input.value = token;
    });
    var headers = {};
    try { headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}"); } catch (e) { /* replaced */ }
    headers["X-CSRFToken"] = token;
    document.body.setAttribute("hx-headers", JSON.stringify(headers));
  }

  // Send the failed request again, as htmx sent it (its element's values and target),
  // once htmx is done with this one: hx-sync would drop a request sent meanwhile.
  function resend(detail) {
    var config = detail.requestConfig || {};
    if (!window.htmx || !config.verb) return;
    setTimeout(function () {
      window.htmx.ajax(config.verb.toUpperCase(), config.path, { source: detail.elt });
    }, 0);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var detail = event.detail, xhr = detail.xhr;
    var box = problemBox(detail.elt, true);
    if (!box) return;
    // A poll (hx-trigger="every 30s") must not wipe a sign-in half typed in.
    if (xhr.status === 401 && box.querySelector("[data-inline-login]")) return;
    var nodes = fragment(xhr);
    var answer = nodes && nodes[0].querySelector ? nodes[0] : null;
    var token = answer && answer.getAttribute("data-csrf-token");
    if (xhr.status === 403 && token) {
      setToken(token);
      if (!detail.elt.hasAttribute("data-csrf-retried")) {
        detail.elt.setAttribute("data-csrf-retried", "");
        resend(detail);
        return;
      }
    }
    show(box, nodes || [paragraph(sentence(xhr.status))]);
    var field = box.querySelector("[data-inline-login] input[name=username]");
    if (field) {
      // The name this page was coded under: the usual case is the same person.
      var pageUser = document.body.getAttribute("data-user");
      if (pageUser && !field.value) field.value = pageUser;
      var password = box.querySelector("[data-inline-login] input[name=password]");
      (pageUser && password ? password : field).focus();
    }
  });

  document.addEventListener("htmx:sendError", function (event) {
    var box = problemBox(event.detail.elt, true);
    if (box) show(box, [paragraph(sentence(0))]);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (!event.detail.successful || !elt) return;
    elt.removeAttribute("data-csrf-retried");
    var box = problemBox(elt, false);
    if (box && box.hasAttribute("data-made-here")) box.remove();
  });

  // The 401 card's sign-in: the login view answers a success with a redirect to
  // the signed-in URL (JSON with the new CSRF token), a failure with its page.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("[data-inline-login]")) return;
    event.preventDefault();
    var problem = form.querySelector("[data-login-problem]");
    var button = form.querySelector("button[type=submit]");
    problem.textContent = "";
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.ok && type.indexOf("application/json") === 0) return response.json();
        if (response.status === 429) throw new Error("Too many failed sign-ins: wait, then try again.");
        if (response.status === 403) throw new Error("Your session changed; reload the page to sign in.");
        throw new Error("That username and password do not match. Try again.");
      })
      .then(function (signedIn) {
        // Someone else signing in on this screen must not save the choices made
        // under the previous name (a shared lab computer): start afresh as them.
        var pageUser = document.body.getAttribute("data-user");
        if (pageUser && signedIn.username !== pageUser) {
          var note = form.closest("[data-signed-out]").parentNode;
          show(note, [paragraph("Signed in as " + signedIn.username + ", not " + pageUser +
            ": the choices made here were " + pageUser + "'s and are not saved. Loading " +
            signedIn.username + "'s page…")]);
          window.location.reload();
          return;
        }
        setToken(signedIn.csrf_token);
        var card = form.closest("[data-signed-out]");
        var box = card.parentNode;
        show(box, [paragraph("Signed in again as " + signedIn.username + ". Your choices are kept: press Enter (or send the form again) to save.")]);
        box.classList.add("resolved");
        if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
      })
      .catch(function (error) {
        // fetch itself fails with a TypeError: no answer came
        problem.textContent = error instanceof TypeError || !error.message
          ? "The server cannot be reached; try again." : error.message;
        button.disabled = false;
      });
  });
})();
