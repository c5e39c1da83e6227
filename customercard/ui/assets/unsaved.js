/* Typing not saved is not lost unasked: leaving the page (a link, the super search, Back, closing the tab) while a
   form on a customer card holds text or a choice changed since it opened asks the browser's "Leave site?" first. A
   form's field counts from the moment it takes the focus, a press or a key (its value then is what it started
   with); a form saved or cancelled is gone from the page, and its fields with it. Search boxes, the "as of" date,
   the timeline's filter and the card's own controls that act at once are not forms and never ask. */
(() => {
  "use strict";
  if (window.ccUnsaved) return;
  const TYPED = new Set(["text", "email", "tel", "url", "number", "password"]);
  const FORM = "cc-card";  // a card, a customer's or a contact person's: its forms
  const started = new Map();  // field -> its value when it first took the focus

  function field(event) {
    const target = event.composedPath()[0];
    if (!target || !target.tagName) return null;
    if (target.closest("[data-action]")) return null;  // a card's own control (a filter, a year): acts at once
    if (target.tagName === "TEXTAREA" || target.tagName === "SELECT") return target;
    return target.tagName === "INPUT" && TYPED.has((target.type || "text").toLowerCase()) ? target : null;
  }
  function inForm(event) {
    return event.composedPath().some((node) => node.classList && node.classList.contains(FORM));
  }
  const UNKNOWN = {};  // a field changed before anything told what it held: changed
  function note(event) {
    const target = field(event);
    if (!target || started.has(target) || !inForm(event)) return;
    if (started.size >= 100) {  // forms closed long ago: their fields let go
      for (const old of started.keys()) if (!old.isConnected) started.delete(old);
    }
    started.set(target, event.type === "input" || event.type === "change" ? UNKNOWN : target.value);
  }
  // Before any change: as the field takes the focus, is pressed, gets a key, or is about to take typing or a paste
  // (a focus moved within one component's shadow root is not seen out here, so the focus alone is not enough); a
  // change seen first (a choice made without a key or a press: a test driver's, an assistive tool's) counts as one.
  for (const type of ["focusin", "pointerdown", "keydown", "beforeinput", "input", "change"]) {
    document.addEventListener(type, note, true);
  }

  function unsaved() {
    for (const [target, value] of started) {
      if (!target.isConnected) started.delete(target);
      else if (target.value !== value) return true;
    }
    return false;
  }
  window.addEventListener("beforeunload", (event) => {
    if (!unsaved()) return;
    event.preventDefault();
    event.returnValue = "";  // (older browsers ask only when this is set)
  });
  window.ccUnsaved = {unsaved};
})();
