/* Keyboard-first coding screen.
 *
 * Every binding is declared in the HTML: an element with data-keys="a b" answers to
 * those KeyboardEvent.key values, in either case (Caps Lock turns a category's "s"
 * into "S"; the codebook refuses shortcuts that differ only by case), and one with
 * data-chord="Alt+KeyS" to Alt and that physical key (event.code: Caps Lock cannot
 * make it, and macOS's Option+S, which types "ß", still arrives as KeyS). The server
 * decides them from the codebook, so no category is hard-wired here. Radios are picked, checkboxes toggled, <summary>
 * boxes opened (focusing their field), anything else clicked. Enter submits the
 * coding form. Keys are ignored while typing in a text field; Esc leaves the field
 * (and cancels a skip: the reason is cleared and the box closed).
 * The coder may turn single-key shortcuts off (WCAG 2.1.4: speech input and stray
 * presses fire them): the preferences form beside the card then says
 * data-letter-keys="off" and only Enter, Esc and the Alt chords act.
 * Listeners sit on document, so spans swapped in by htmx need no re-binding.
 * After each swap the new span gets the focus and a polite live region names it.
 * Without JavaScript the page still works: the same forms post and redirect.
 */
(function () {
  "use strict";

  var NOT_TYPING = ["radio", "checkbox", "button", "submit", "reset", "hidden", "range", "color", "file"];
  var PANEL_KEY = "annotator.codebookPanelOpen";

  function isTyping(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable) return true;
    if (el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
    return el.tagName === "INPUT" && NOT_TYPING.indexOf(el.type) === -1;
  }

  function lettersOff() {
    return document.querySelector('[data-letter-keys="off"]') !== null;
  }

  function boundTo(key) {
    var wanted = key.toLowerCase();
    var all = document.querySelectorAll("[data-keys]");
    for (var i = 0; i < all.length; i++) {
      var keys = all[i].getAttribute("data-keys").toLowerCase().split(" ");
      if (keys.indexOf(wanted) !== -1) return all[i];
    }
    return null;
  }

  function chordedTo(event) {
    if (!event.altKey || event.ctrlKey || event.metaKey || !event.code) return null;
    var chord = "Alt+" + event.code;
    var all = document.querySelectorAll("[data-chord]");
    for (var i = 0; i < all.length; i++) {
      if (all[i].getAttribute("data-chord") === chord) return all[i];
    }
    return null;
  }

  function activate(el) {
    if (el.tagName === "INPUT" && el.type === "radio") {
      // A second press clears an optional single-choice dimension.
      var optional = el.closest("[data-optional]") !== null;
      el.checked = optional ? !el.checked : true;
      el.dispatchEvent(new Event("change", { bubbles: true }));
    } else if (el.tagName === "INPUT" && el.type === "checkbox") {
      el.checked = !el.checked;
      el.dispatchEvent(new Event("change", { bubbles: true }));
    } else if (el.tagName === "SUMMARY") {
      var box = el.parentElement;
      box.open = !box.open;
      if (box.open) {
        var field = box.querySelector("textarea, input:not([type=hidden])");
        if (field) field.focus();
      }
    } else {
      el.click();
    }
    flash(el);
  }

  function flash(el) {
    var shown = el.tagName === "INPUT" ? el.parentElement : el;
    shown.classList.remove("pressed");
    void shown.offsetWidth; // restart the animation
    shown.classList.add("pressed");
  }

  // htmx wires a swapped-in form only when the swap settles; a coder quick enough to
  // press Enter before then would post it without htmx (a full page load, and no
  // "Saved." notice). process() wires it now, and does nothing if already wired.
  function submitForm(form) {
    if (window.htmx) window.htmx.process(form);
    form.requestSubmit();
  }

  function submitCoding() {
    var form = document.getElementById("code-form");
    if (form) submitForm(form);
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) return;
    var target = event.target;
    if (isTyping(target)) {
      if (event.key === "Escape") {
        var skipBox = target.closest && target.closest("details.skip-box");
        if (skipBox) {
          target.value = "";
          skipBox.open = false;
        }
        target.blur();
      } else if (
        event.key === "Enter" && target.form && !event.repeat &&
        (event.ctrlKey || event.metaKey || target.tagName === "INPUT")
      ) {
        // A one-line field would submit on Enter by itself (implicit submission),
        // bypassing a just-swapped form's htmx wiring; submitForm wires it first.
        event.preventDefault();
        submitForm(target.form);
      }
      return;
    }
    var chorded = chordedTo(event);
    if (chorded) {
      event.preventDefault();
      activate(chorded);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Enter") {
      // Buttons, links and summaries answer Enter themselves; a held key must not
      // send the form again and again.
      if (event.repeat || (target.closest && target.closest("button, a, summary"))) return;
      event.preventDefault();
      submitCoding();
      return;
    }
    if (event.key === "Escape") {
      document.querySelectorAll("#span-card details[open]").forEach(function (box) {
        box.open = false;
      });
      return;
    }
    var el = lettersOff() ? null : boundTo(event.key);
    if (el) {
      event.preventDefault();
      activate(el);
    }
  });

  // The codebook panel stays as the coder left it, across spans and page loads.
  document.addEventListener(
    "toggle",
    function (event) {
      if (event.target.id === "codebook-panel") {
        try {
          localStorage.setItem(PANEL_KEY, event.target.open ? "1" : "0");
        } catch (e) { /* storage disabled: the panel just does not remember */ }
      }
    },
    true
  );
  document.addEventListener("DOMContentLoaded", function () {
    var panel = document.getElementById("codebook-panel");
    try {
      if (panel && localStorage.getItem(PANEL_KEY) === "1") panel.open = true;
    } catch (e) { /* ignore */ }
  });

  // A failed request (signed out, database down, no answer) leaves the card and the
  // coder's choices as they were: htmx-errors.js, on every page, says why in it.

  // After a swap: a new span takes the focus (its text container, tabindex=-1) and
  // the live region outside the card names it ("Span 12 of 60: first words"); the
  // same span back with errors puts the focus on the first choice to fix. The card
  // starts at the top, wherever the last one was scrolled.
  var shownCard = null;
  var shownHeld = null;

  function held(card) {
    var input = card.querySelector("#code-form input[name=assignment]");
    return input ? input.value : null;
  }

  function announce(text) {
    var region = document.getElementById("coding-announce");
    if (!region || !text) return;
    region.textContent = "";
    // A changed text is announced; the same text twice needs the region emptied first.
    window.setTimeout(function () { region.textContent = text; }, 60);
  }

  // On a narrow or zoomed screen the choices ride in a bar at the bottom; a span
  // that starts below it is scrolled up until its first lines show above the bar.
  function revealSpan() {
    var span = document.getElementById("target-span");
    var bar = document.querySelector(".action-bar");
    if (!span || !bar || getComputedStyle(bar).position !== "sticky") return;
    var covered = span.getBoundingClientRect().top + 48 - bar.getBoundingClientRect().top;
    if (covered > 0) window.scrollBy(0, covered);
  }

  function remember() {
    shownCard = document.getElementById("span-card");
    shownHeld = shownCard ? held(shownCard) : null;
  }
  document.addEventListener("DOMContentLoaded", function () {
    remember();
    revealSpan();
  });

  document.addEventListener("htmx:afterSwap", function () {
    var card = document.getElementById("span-card");
    if (!card || card === shownCard) return;
    var sameSpan = held(card) !== null && held(card) === shownHeld;
    remember();
    var toFix = sameSpan && card.querySelector(
      ".dimension.invalid input, .skip-box[open] .field-error ~ .skip-row input"
    );
    var focus = toFix || card.querySelector("#target-span") || card;
    if (!focus.hasAttribute("tabindex") && !toFix) focus.setAttribute("tabindex", "-1");
    focus.focus({ preventScroll: true });
    if (!sameSpan) announce(card.getAttribute("data-announce"));
    if (card.getBoundingClientRect().top < 0) card.scrollIntoView({ block: "start" });
    revealSpan();
  });
})();
