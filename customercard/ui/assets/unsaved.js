/* Typing not saved is not lost unasked: leaving the page (a link, the super search, Back, closing the tab) while a
   form on a customer card (or a page of one form, marked "cc-guarded": New customer) holds text or a choice changed
   since it opened asks the browser's "Leave site?" first. A form's field counts from the moment it takes the focus,
   a press or a key (its value then is what it started with); a form saved or cancelled is gone from the page, and
   its fields with it — a guarded page's form, saved, is marked "cc-saved" before the page moves on. Search boxes,
   the "as of" date, the timeline's filter and the card's own controls that act at once are not forms and never
   ask. */
(() => {
  "use strict";
  if (window.ccUnsaved) return;
  const TYPED = new Set(["text", "email", "tel", "url", "number", "password"]);
  const FORMS = ["cc-card", "cc-guarded"];  // a card (a customer's, a contact person's), a page of one form
  const SAVED = "cc-saved";  // a guarded form saved: nothing of it is lost when the page moves on
  const started = new Map();  // field -> [its value when it first took the focus, the form it is in]

  function field(event) {
    const target = event.composedPath()[0];
    if (!target || !target.tagName) return null;
    if (target.closest("[data-action]")) return null;  // a card's own control (a filter, a year): acts at once
    if (target.tagName === "TEXTAREA" || target.tagName === "SELECT") return target;
    return target.tagName === "INPUT" && TYPED.has((target.type || "text").toLowerCase()) ? target : null;
  }
  function formOf(event) {
    return event.composedPath().find((node) => node.classList && FORMS.some((name) => node.classList.contains(name)));
  }
  const UNKNOWN = {};  // a field changed before anything told what it held: changed
  function note(event) {
    const target = field(event);
    if (!target || started.has(target)) return;
    const form = formOf(event);
    if (!form) return;
    if (started.size >= 100) {  // forms closed long ago: their fields let go
      for (const old of started.keys()) if (!old.isConnected) started.delete(old);
    }
    started.set(target, [event.type === "input" || event.type === "change" ? UNKNOWN : target.value, form]);
  }
  // Before any change: as the field takes the focus, is pressed, gets a key, or is about to take typing or a paste
  // (a focus moved within one component's shadow root is not seen out here, so the focus alone is not enough); a
  // change seen first (a choice made without a key or a press: a test driver's, an assistive tool's) counts as one.
  for (const type of ["focusin", "pointerdown", "keydown", "beforeinput", "input", "change"]) {
    document.addEventListener(type, note, true);
  }

  function unsaved() {
    for (const [target, [value, form]] of started) {
      if (!target.isConnected) started.delete(target);
      else if (target.value !== value && !form.classList.contains(SAVED)) return true;
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
