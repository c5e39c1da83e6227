"""What makes the served pages usable with a keyboard and a screen reader, beyond plain markup.

Bokeh and Panel draw every component in its own (open) shadow root, and a few of Bokeh's widgets leave gaps we
cannot close from Python: a checkbox whose text is not its label, a date picker whose visible input has no
label, a multi-choice search box named "null", tabs that are plain ``div`` elements a keyboard cannot switch. A
field and its message are in different shadow roots, where ``aria-describedby`` cannot reach. :data:`PAGE_SCRIPT`,
put into every served page by :mod:`customercard.ui.shell`, watches every shadow root as it is made and
closes these gaps with attributes only:

- a form control without a name gets its widget's label as ``aria-labelledby``; a multi-choice's chosen values
  (tags) lose the ``aria-selected`` Choices.js gives them;
- Bokeh's tabs become a ``tablist`` of ``tab`` elements (``aria-selected``, ``aria-controls``) with their
  ``tabpanel``; Enter or Space opens a tab, the arrow keys, Home and End move between them;
- a field whose message says something wrong is ``aria-invalid``, and its control is ``aria-describedby`` a copy
  of the message (and of a "changed meanwhile" notice) kept beside it in the control's own shadow root;
- a message marked with :func:`live` is said once in the page's live region (``role=status``, or ``role=alert``
  for what went wrong);
- an element marked with :func:`focus_here` gets the focus once when it shows, and a layout given a class from
  :func:`focus_first` gives it to its first field.

Messages and focus marks carry a token from :func:`token`, so that a message drawn again (another section
saved, the card redrawn) is neither said nor focused a second time.
"""

from __future__ import annotations

import itertools

_TOKENS = itertools.count(1)


def token() -> str:
    """A mark not used before in this process: a message or a focus request happens once in the browser."""
    return str(next(_TOKENS))


def live(ok: bool = True, mark: str | None = None) -> str:
    """Attributes for a message's element: said once in the page's live region — politely when ``ok``, at once
    (``role=alert``) when something went wrong. ``mark``: the message's token (a new one by default)."""
    return f' data-cc-say="{mark or token()}" data-cc-live="{"polite" if ok else "assertive"}"'


def focus_here(mark: str | None = None) -> str:
    """Attributes for an element that takes the focus once, when it shows (a message after the control that was
    used went away)."""
    return f' data-cc-focus="{mark or token()}" tabindex="-1"'


FOCUS_CLASS = "cc-focus-"


def focus_first(css_classes: list[str] | None = None) -> list[str]:
    """``css_classes`` with a new focus mark: the layout's first field takes the focus once it is drawn (an edit
    form just opened, the first field a refused save marked)."""
    kept = [c for c in css_classes or [] if not c.startswith(FOCUS_CLASS)]
    return [*kept, FOCUS_CLASS + token()]


#: Button colours with at least 4.5:1 contrast for their white text (Bokeh's danger red has 3.96:1, its warning
#: orange 1.95:1). Given to the buttons that use them (``stylesheets=[BUTTON_CSS]``).
BUTTON_CSS = """
.bk-btn-danger { background-color: #b42318; border-color: #9b1c14; color: #fff; }
.bk-btn-danger:hover, .bk-btn-danger:focus { background-color: #9b1c14; }
.bk-btn-warning { background-color: #8a5a00; border-color: #704900; color: #fff; }
.bk-btn-warning:hover, .bk-btn-warning:focus { background-color: #704900; }
.bk-btn:focus-visible { outline: 2px solid #1f5c99; outline-offset: 2px; }
"""

#: Text for screen readers only (kept in the page, out of sight).
SR_ONLY_CSS = """
.cc-sr-only { position: absolute !important; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
              clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
"""

#: The page's live regions: what :func:`live` marks is said here.
LIVE_REGIONS = ('<div id="cc-status" class="cc-sr-only" role="status" aria-live="polite"></div>'
                '<div id="cc-alert" class="cc-sr-only" role="alert" aria-live="assertive"></div>')

PAGE_SCRIPT = r"""
(() => {
  "use strict";
  if (window.ccAccessibility) return;
  const CONTROL = 'input:not([type=hidden]), select, textarea';
  const FOCUSABLE = 'input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]),' +
                    ' button:not([disabled]), a[href], [tabindex]:not([tabindex="-1"])';
  const watched = new WeakSet();
  const pending = new Set();
  const fieldRoots = new Set();
  const waiting = new Map();  // focus token -> {host, since}
  const said = new Set(), focused = new Set();
  let scheduled = false, serial = 0;

  const uid = (el, stem) => el.id || (el.id = "cc-a11y-" + stem + "-" + (++serial));
  function set(el, name, value) {
    if (value === null) { if (el.hasAttribute(name)) el.removeAttribute(name); }
    else if (el.getAttribute(name) !== value) el.setAttribute(name, value);
  }
  const shown = (el) => el.getClientRects().length > 0;
  function textOf(host) {  // a pane's text, without its style sheets
    const scope = host.shadowRoot || host;
    return [...scope.children].filter((el) => el.tagName !== "STYLE" && el.tagName !== "LINK")
      .map((el) => el.textContent).join(" ").replace(/\s+/g, " ").trim();
  }

  // Form controls without a name: the widget's own label names them.
  function labels(root) {
    for (const control of root.querySelectorAll(CONTROL)) {
      if (control.hidden) continue;
      let label = null;
      const next = control.nextElementSibling;
      if (control.type === "checkbox" && next && next.classList.contains("bk-label")) label = next;
      else {
        const group = control.closest(".bk-input-group");
        label = group && group.querySelector(":scope > label");
      }
      if (control.getAttribute("aria-label") === "null") control.removeAttribute("aria-label");
      if (control.classList.contains("choices__input--cloned")) control.removeAttribute("role");
      const named = [...(control.labels || [])].some((l) => l.textContent.trim()) ||
                    control.hasAttribute("aria-labelledby") || control.hasAttribute("aria-label");
      if (!named && label && label.textContent.trim()) set(control, "aria-labelledby", uid(label, "label"));
    }
    // A multi-choice's chosen values are drawn as tags (plain elements, not options of a list): Choices.js marks
    // them aria-selected, which only an option, a tab or a cell may carry.
    for (const item of root.querySelectorAll(".choices__list--multiple .choices__item[aria-selected]")) {
      item.removeAttribute("aria-selected");
    }
  }

  // Bokeh's tabs as a tab list: roles, the selected one, and keys.
  function tabs(root) {
    for (const list of root.querySelectorAll(".bk-headers-wrapper")) {
      set(list, "role", "tablist");
      const heads = [...list.querySelectorAll(":scope > .bk-tab")];
      const panels = [...root.children].filter((el) => !["STYLE", "LINK"].includes(el.tagName) &&
                                                       !el.classList.contains("bk-header"));
      heads.forEach((tab, i) => {
        const active = tab.classList.contains("bk-active");
        set(tab, "role", "tab");
        set(tab, "aria-selected", String(active));
        set(tab, "tabindex", active ? "0" : "-1");
        if (panels.length === heads.length) {
          set(panels[i], "role", "tabpanel");
          set(panels[i], "aria-labelledby", uid(tab, "tab"));
          set(tab, "aria-controls", uid(panels[i], "panel"));
        }
        if (!tab.ccKeys) {
          tab.ccKeys = true;
          tab.addEventListener("keydown", (event) => {
            const all = [...list.querySelectorAll(":scope > .bk-tab")];
            const at = all.indexOf(tab);
            const to = {ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0,
                        End: all.length - 1}[event.key];
            if (event.key === "Enter" || event.key === " ") {
              event.preventDefault();
              root.ccRefocus = {at: at, until: Date.now() + 2000};  // Bokeh draws the tabs again: stay on this one
              tab.click();
            }
            else if (to !== undefined) {
              event.preventDefault();
              const target = all[(to + all.length) % all.length];
              for (const other of all) other.setAttribute("tabindex", other === target ? "0" : "-1");
              target.focus();
            }
          });
        }
      });
      const refocus = root.ccRefocus;
      if (refocus && Date.now() < refocus.until && heads[refocus.at] && !root.activeElement) {
        delete root.ccRefocus;
        heads[refocus.at].focus();
      }
    }
  }

  // A field's message and notice (other shadow roots) tied to its control.
  function fieldState(root) {
    const notes = [...root.children].filter((el) => el.matches(".cc-field-error, .cc-field-notice"));
    const texts = notes.filter((el) => !el.classList.contains("hidden")).map(textOf).filter(Boolean);
    const wrong = notes.some((el) => el.matches(".cc-field-error:not(.hidden)") && textOf(el));
    for (const host of [...root.children].filter((el) => el.shadowRoot && !notes.includes(el))) {
      const scope = host.shadowRoot;
      let copy = [...scope.children].find((el) => el.classList.contains("cc-a11y-message"));
      if (texts.length && !copy) {
        copy = document.createElement("span");
        copy.className = "cc-a11y-message"; copy.hidden = true;
        scope.append(copy);
      }
      if (copy && copy.textContent !== texts.join(" ")) copy.textContent = texts.join(" ");
      for (const control of scope.querySelectorAll(CONTROL)) {
        if (control.hidden) continue;
        set(control, "aria-invalid", wrong ? "true" : null);
        set(control, "aria-describedby", texts.length ? uid(copy, "message") : null);
      }
    }
  }

  // Messages said once in the live region.
  function announce(root) {
    for (const el of root.querySelectorAll("[data-cc-say]")) {
      const mark = el.dataset.ccSay;
      const text = el.textContent.replace(/\s+/g, " ").trim();
      if (said.has(mark) || !text) continue;
      said.add(mark);
      const region = document.getElementById(el.dataset.ccLive === "assertive" ? "cc-alert" : "cc-status");
      if (!region) continue;
      region.textContent = "";
      setTimeout(() => { region.textContent = text; }, 50);  // a change the screen reader notices
    }
  }

  // Focus requests: an element itself, or a layout's first field.
  function firstField(el) {
    if (el.matches && el.matches(FOCUSABLE) && shown(el) && !el.closest('[aria-hidden="true"]')) return el;
    for (const scope of el.shadowRoot ? [el.shadowRoot, el] : [el]) {
      for (const child of scope.children) {
        const found = firstField(child);
        if (found) return found;
      }
    }
    return null;
  }
  function requests(root) {
    for (const el of root.querySelectorAll("[data-cc-focus]")) {
      const mark = "el" + el.dataset.ccFocus;
      if (!focused.has(mark)) waiting.set(mark, {host: el, since: Date.now(), self: true});
    }
    for (const el of root.querySelectorAll('[class*="cc-focus-"]')) {
      const name = [...el.classList].find((c) => /^cc-focus-\d+$/.test(c));
      if (name && !focused.has(name)) waiting.set(name, {host: el, since: Date.now(), self: false});
    }
  }
  function focusWaiting() {
    for (const [mark, want] of [...waiting]) {
      const target = want.self ? (shown(want.host) ? want.host : null) : firstField(want.host);
      if (target) {
        focused.add(mark); waiting.delete(mark);
        target.focus();
      } else if (Date.now() - want.since > 5000) {
        focused.add(mark); waiting.delete(mark);
      }
    }
  }

  function flush() {
    scheduled = false;
    const roots = [...pending];
    pending.clear();
    for (const root of roots) {
      labels(root); tabs(root); announce(root); requests(root);
      if ([...root.children].some((el) => el.matches(".cc-field-error, .cc-field-notice"))) fieldRoots.add(root);
    }
    for (const root of fieldRoots) {
      if (root.host.isConnected) { root.ccConnected = true; fieldState(root); }
      else if (root.ccConnected) fieldRoots.delete(root);  // its form was closed
    }
    focusWaiting();
    if (waiting.size) later(100);
  }
  function later(delay) {
    if (!scheduled) { scheduled = true; setTimeout(flush, delay); }
  }
  function queue(root) { pending.add(root); later(0); }
  function watch(root) {
    if (watched.has(root)) return;
    watched.add(root);
    new MutationObserver(() => queue(root)).observe(root, {
      childList: true, subtree: true, characterData: true, attributes: true,
      attributeFilter: ["class", "hidden", "data-cc-say", "data-cc-focus"]});
    queue(root);
  }
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    watch(root);
    return root;
  };
  window.ccAccessibility = {flush: () => { for (const r of fieldRoots) queue(r); }};
})();
"""
