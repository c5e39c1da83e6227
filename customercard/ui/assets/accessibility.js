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

  const localized = new WeakSet();  // date pickers' calendars put in the page's language
  const closing = new WeakSet();  // multi-choices whose list closes after a click on an option
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
    // Choices.js names each chosen value's remove button in English, with the value's HTML escaped once more
    // ("Remove item: 'A &amp; B'"), and says "No results found": in the page's language, the value as shown.
    const texts = window.ccTexts || {};
    for (const button of root.querySelectorAll(".choices__list--multiple .choices__item .choices__button")) {
      const item = button.closest(".choices__item");
      const value = [...item.childNodes].filter((n) => n !== button).map((n) => n.textContent).join("").trim();
      if (texts.remove) {
        const name = texts.remove.split("{value}").join(value);  // (replace() reads "$" in a value)
        set(button, "aria-label", name);
        if (button.textContent !== name) button.textContent = name;
      }
    }
    for (const notice of root.querySelectorAll(".choices__item.has-no-results, .choices__item.has-no-choices")) {
      const want = notice.classList.contains("has-no-results") ? texts.no_results : texts.no_choices;
      if (want && notice.textContent !== want) notice.textContent = want;
      // alone in the list box, which must hold options: an option that cannot be chosen
      set(notice, "role", "option"); set(notice, "aria-disabled", "true");
    }
    // A date picker's calendar (flatpickr; Bokeh's and Panel's widgets each bring a copy) names its months and
    // weekdays in English and starts its weeks on Sunday: in the page's language, each picker as it is drawn.
    if (texts.calendar) {
      for (const input of root.querySelectorAll("input")) {
        const picker = input._flatpickr;
        if (!picker || localized.has(picker)) continue;
        localized.add(picker);
        picker.set("locale", texts.calendar);
        if (texts.calendar.ariaDateFormat) picker.set("ariaDateFormat", texts.calendar.ariaDateFormat);
        const box = picker.calendarContainer;  // its fields' names are given once, as the calendar is made
        const names = [[".cur-year", "yearAriaLabel"], [".flatpickr-monthDropdown-months", "monthAriaLabel"],
                       [".flatpickr-hour", "hourAriaLabel"], [".flatpickr-minute", "minuteAriaLabel"]];
        for (const [selector, key] of names) {
          for (const field of box ? box.querySelectorAll(selector) : []) set(field, "aria-label", texts.calendar[key]);
        }
      }
    }
    // A mouse choice leaves Choices.js's list of a multi-choice open, over the fields under it: a click meant for
    // the next field chose another value. The list closes after a click on an option (as Escape closes it), the
    // focus kept in the field; chosen by keyboard, it stays open for the next one.
    for (const select of root.querySelectorAll("select[data-choice]")) {
      const outer = select.closest(".choices");
      if (!outer || closing.has(select)) continue;
      closing.add(select);
      let byPointer = false;
      outer.addEventListener("pointerdown", (event) => {
        byPointer = Boolean(event.target.closest && event.target.closest(".choices__list--dropdown"));
      }, true);
      select.addEventListener("addItem", () => {
        if (!byPointer) return;
        byPointer = false;
        const choices = choicesOf(select);
        if (choices) requestAnimationFrame(() => choices.hideDropdown(true));  // (true: the focus stays in it)
      });
    }
    // Its list of options scrolls when long (Industry's 18 values): Chromium makes such a scroller a Tab stop, the
    // list closes as it takes the focus, and the focus falls to the page's start. The list is reached with the
    // arrow keys from the field, as it should be; Tab goes on to the next field.
    for (const list of root.querySelectorAll(".choices__list--dropdown, .choices__list[role=listbox]")) {
      set(list, "tabindex", "-1");
    }
    // Open, Choices.js marks its list's box (a plain element) aria-expanded, which only the combobox carries, and
    // leaves the combobox without naming the list it controls: the list box named, the box's attribute taken away.
    for (const box of root.querySelectorAll(".choices__list--dropdown[aria-expanded]")) {
      box.removeAttribute("aria-expanded");
    }
    for (const combo of root.querySelectorAll(".choices[role=combobox]")) {
      const list = combo.querySelector(".choices__list--dropdown [role=listbox]");
      if (list) set(combo, "aria-controls", uid(list, "options"));
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
      // Bokeh puts the tab strip after the panels (a grid draws it above them): the keyboard reached it only after
      // every control of the open panel. It goes first, where it is seen, when it is drawn above them.
      const header = list.closest(".bk-header");
      const open = panels.find((panel) => panel.getClientRects().length);  // the panel shown (any tab open first)
      if (header && header.parentNode === root && open && panels[0].compareDocumentPosition(header) &
          Node.DOCUMENT_POSITION_FOLLOWING && header.getBoundingClientRect().top <= open.getBoundingClientRect().top) {
        root.insertBefore(header, panels[0]);
      }
      const refocus = root.ccRefocus;
      if (refocus && Date.now() < refocus.until && heads[refocus.at] && !root.activeElement) {
        delete root.ccRefocus;
        heads[refocus.at].focus();
      }
    }
  }

  // A field's message and notice (other shadow roots) tied to its control: in a layout per field (the notes
  // are panes beside the widget), or in a form's grid (customercard.ui.form.FormGrid: per field a box with the
  // widget, in the wrapper its component draws it in, and the notes as plain elements).
  const NOTES = ".cc-field-error, .cc-field-notice";
  function tie(hosts, notes) {
    const texts = notes.filter((el) => !el.classList.contains("hidden")).map(textOf).filter(Boolean);
    const wrong = notes.some((el) => el.matches(".cc-field-error:not(.hidden)") && textOf(el));
    for (const host of hosts) {
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
  function fieldState(root) {
    const notes = [...root.children].filter((el) => el.matches(NOTES));
    if (notes.length) tie([...root.children].filter((el) => el.shadowRoot && !notes.includes(el)), notes);
    for (const box of root.querySelectorAll(".cc-form-grid > .cc-field")) {
      const parts = [...box.children];
      const hosts = parts.filter((el) => !el.matches(NOTES))
        .flatMap((el) => el.shadowRoot ? [el] : [...el.children].filter((c) => c.shadowRoot));
      tie(hosts, parts.filter((el) => el.matches(NOTES)));
    }
  }
  const hasFields = (root) => [...root.children].some((el) => el.matches(NOTES)) ||
    root.querySelector(".cc-form-grid") !== null;

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

  // The Choices.js instance of Bokeh's multi-choice that holds ``el`` (its view's), or null.
  function choicesOf(el) {
    const index = window.Bokeh && window.Bokeh.index;
    if (!index || typeof index.query_one !== "function") return null;
    const view = index.query_one((v) => v.choice_el && v.shadow_el && v.shadow_el.contains(el));
    return view ? view.choice_el : null;
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
  // the focus given went nowhere (the page holds it): asked again; anywhere else (a widget passed it on inside
  // itself, or the user went on) it stays where it is
  const focusWentNowhere = () => !document.activeElement || document.activeElement === document.body;
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
      // (a layout being drawn anew is hidden a moment: the focus given then goes nowhere, and is given again)
      if (target && getComputedStyle(target).visibility !== "hidden") {
        target.focus();
        if (focusWentNowhere() && Date.now() - want.since <= 5000) continue;
        focused.add(mark); waiting.delete(mark);
        // a multi-choice opens its list as it takes the focus, over the fields under it: the form opens with
        // the focus in it and the list closed (typing, a click or the arrow keys open it)
        const choices = target.closest && target.closest(".choices") ? choicesOf(target) : null;
        if (choices) requestAnimationFrame(() => choices.hideDropdown(true));  // (it opens in the next frame)
      } else if (Date.now() - want.since > 5000) {
        focused.add(mark); waiting.delete(mark);
      }
    }
  }

  // Files chosen for an upload go to the server in one message, which has a largest size: a file over the firm's
  // limit, or files over twice it together, closed the page's connection without a word. They are refused here,
  // before they are sent, with the reason under the field (the limits are on the field: cc-upload-max-<bytes>).
  const guarded = new WeakSet();
  const megabytes = (bytes) => new Intl.NumberFormat(document.documentElement.lang || undefined,
    {maximumFractionDigits: 1}).format(bytes / 1048576) + " MB";
  function fill(text, values) {
    return Object.entries(values).reduce((out, [key, value]) => out.split("{" + key + "}").join(value), text || "");
  }
  function uploads(root) {
    for (const input of root.querySelectorAll("input[type=file]")) {
      const host = input.getRootNode().host;
      const limit = host && [...host.classList].map((c) => /^cc-upload-max-(\d+)$/.exec(c)).find(Boolean);
      if (!limit || guarded.has(input)) continue;
      guarded.add(input);
      const each = Number(limit[1]), together = 2 * each;
      input.addEventListener("change", (event) => {
        const texts = window.ccTexts || {};
        const chosen = [...(input.files || [])];
        const total = chosen.reduce((sum, file) => sum + file.size, 0);
        const big = chosen.find((file) => file.size > each);
        const text = big ? fill(texts.file_too_big, {name: big.name, size: megabytes(big.size), limit: megabytes(each)})
          : total > together ? fill(texts.files_too_big, {size: megabytes(total), limit: megabytes(together)}) : "";
        if (!text) {  // sent: until the server has them (it says so in the same place), Upload waits for them
          if (chosen.length) {
            say(host, "cc-upload-sending", "status", "", fill(texts.files_sending,
              {names: chosen.map((file) => file.name).join(", "), size: megabytes(total)}));
          }
          return;
        }
        event.stopImmediatePropagation();  // (before Bokeh reads and sends them)
        input.value = "";
        say(host, "cc-upload-error", "alert", "#b42318", text);
      }, true);
    }
  }
  function uploadMessage(host) {  // the box of the form's message pane, beside the file field (host)
    const pane = host.getRootNode().querySelector(".cc-upload-message");
    return pane && pane.shadowRoot && [...pane.shadowRoot.children].find((el) => el.tagName === "DIV");
  }
  function say(host, css, role, color, text) {
    const box = uploadMessage(host);
    if (!box) return;
    const said = document.createElement("span");
    said.className = css;
    said.setAttribute("role", role);
    if (color) said.style.color = color;
    said.textContent = text;
    box.replaceChildren(said);
  }
  // Upload pressed while the chosen files are still on their way (a big file takes seconds to read and send) would
  // find nothing on the server ("Choose files first"): the press waits until the server says it has them, or a
  // minute at most, and is then made again.
  document.addEventListener("click", (event) => {
    const path = event.composedPath();
    const sendHost = path.find((el) => el.classList && el.classList.contains("cc-file-send"));
    const button = path.find((el) => el.tagName === "BUTTON");
    if (!sendHost || !button || event.ccAgain) return;
    let form = sendHost;
    while (form && !(form.classList && form.classList.contains("cc-upload-form"))) {
      form = form.parentElement || form.getRootNode().host;
    }
    const field = form && form.shadowRoot && form.shadowRoot.querySelector(".cc-file-input");
    const box = field && uploadMessage(field);
    // a choice refused here (too large) emptied the field: Upload then has nothing to send, and the server's
    // "Choose files first" would put away the reason. The reason stays, said again.
    const refused = box && box.querySelector("span.cc-upload-error[role=alert]");
    const input = field && field.shadowRoot && field.shadowRoot.querySelector("input[type=file]");
    if (refused && input && !(input.files && input.files.length)) {
      event.stopImmediatePropagation();
      event.preventDefault();
      say(field, "cc-upload-error", "alert", "#b42318", refused.textContent);
      return;
    }
    const sending = box && box.querySelector(".cc-upload-sending");
    if (!sending) return;
    event.stopImmediatePropagation();
    event.preventDefault();
    if (sending.ccWaiting) return;  // pressed again meanwhile: still one upload
    sending.ccWaiting = true;
    const since = Date.now();
    const wait = setInterval(() => {
      if (sending.isConnected && Date.now() - since < 60000) return;
      clearInterval(wait);
      if (!button.isConnected) return;
      const again = new MouseEvent("click", {bubbles: true, composed: true, cancelable: true});
      again.ccAgain = true;
      button.dispatchEvent(again);
    }, 150);
  }, true);

  // A form closed by a control inside it (Cancel) takes the focus with it to the page's start, where the next Tab
  // is "Skip to the content". The focus goes back to the control used last that is still in the page (the one that
  // opened the form) — unless something asked for the focus itself (a message after a save: focusWaiting).
  const used = [];  // the controls clicked (or pressed with Enter/Space), the latest last
  let lastFocused = null, lastUse = 0;
  // (heard in every shadow root too: focus moving inside one Bokeh root does not reach the document)
  const onFocusIn = (event) => { lastFocused = event.composedPath()[0] || null; };
  document.addEventListener("focusin", onFocusIn, true);
  document.addEventListener("click", (event) => {
    const el = event.composedPath()[0];
    const control = el && el.closest ? el.closest("button, [role=button], [role=tab], a[href], summary") : null;
    if (!control) return;
    used.push({el: control, root: control.getRootNode(), cls: control.className, id: control.dataset.id,
               text: control.textContent.trim()});
    if (used.length > 12) used.shift();
    lastUse = Date.now();
  }, true);
  function again(was) {  // the control, or the one drawn in its place (a list drawn again): same kind, item, text
    if (was.el.isConnected) return was.el;
    if (was.root !== document && !(was.root.host && was.root.host.isConnected)) return null;
    for (const el of was.root.querySelectorAll("button, [role=button], [role=tab], a[href], summary")) {
      if (el.className === was.cls && el.dataset.id === was.id && el.textContent.trim() === was.text) return el;
    }
    return null;
  }
  let rescued = null, rescues = 0;
  function rescueFocus() {
    const active = document.activeElement;
    if ((active && active !== document.body) || !lastFocused || Date.now() - lastUse > 5000) return;
    // the control given the focus back lost it again as what holds it was drawn anew: once more (a few times)
    const again_lost = lastFocused === rescued && rescues < 4;
    if (lastFocused.isConnected && !again_lost) return;
    if (lastFocused === rescued && lastFocused.isConnected && lastFocused.getClientRects().length) {
      rescues += 1;
      lastFocused.focus();
      return;
    }
    for (let i = used.length - 1; i >= 0; i--) {
      const control = again(used[i]);
      if (control && control.getClientRects().length && !control.disabled) {
        if (control !== rescued) rescues = 0;
        lastFocused = rescued = control;
        control.focus();
        return;
      }
    }
  }

  // Escape in a form leaves it as its Cancel does (the focus then goes back to what opened it), and Enter in one of
  // its one-line fields saves it as its Save does (as a web form is sent). A form is the nearest layout around the
  // focus that holds a Save (or a confirm, as Merge…'s, which Enter never presses) and a Cancel of its own; an open
  // list or calendar closes first, Enter in a text area starts a new line, and nothing happens outside a form.
  const isCancel = (el) => [...el.classList].some((c) => /(^|-)cancel$/.test(c));
  const isSave = (el) => [...el.classList].some((c) => /(^|-)save$/.test(c));
  // a form's button that only a click or its own key press does (Merge…): it makes a form for Escape, not for Enter
  const isConfirm = (el) => [...el.classList].some((c) => /(^|-)confirm$/.test(c));
  function formButtons(root, depth, found) {
    for (const el of root.querySelectorAll("[class]")) {
      if (!found.cancel && isCancel(el)) found.cancel = el;
      if (!found.save && isSave(el)) found.save = el;
      if (!found.confirm && isConfirm(el)) found.confirm = el;
      if (el.shadowRoot && depth > 0) formButtons(el.shadowRoot, depth - 1, found);
    }
    return found;
  }
  const pressed = (el) => (el && el.shadowRoot ? el.shadowRoot.querySelector("button") : el);
  function ownForm(path) {
    for (const node of path) {
      if (!(node instanceof Element) || !node.shadowRoot) continue;
      // its own Save and Cancel: in its shadow root, or one layout (a row of buttons) below — not a form further
      // down that only sits inside it (another section's, elsewhere on the card)
      const found = formButtons(node.shadowRoot, 1, {cancel: null, save: null, confirm: null});
      if (found.cancel && (found.save || found.confirm)) return found;
    }
    return null;
  }
  // one-line fields Enter saves from (not a text area, a list's own input, a check box or a button)
  const ONE_LINE = new Set(["text", "email", "tel", "url", "number", "password", "search", ""]);
  document.addEventListener("keydown", (event) => {
    if ((event.key !== "Escape" && event.key !== "Enter") || event.isComposing) return;  // (ending an IME word: not this)
    const path = event.composedPath();
    const start = path[0];
    if (start && start.closest && start.closest(".choices, .flatpickr-calendar, [role=listbox], .cc-search")) return;
    const root = start && start.getRootNode ? start.getRootNode() : null;
    if (root && root.querySelector && root.querySelector(".flatpickr-calendar.open, .choices.is-open")) return;
    if (event.key === "Enter") {
      if (event.shiftKey || event.altKey || event.ctrlKey || event.metaKey) return;
      if (!(start instanceof HTMLInputElement) || !ONE_LINE.has((start.getAttribute("type") || "").toLowerCase())) return;
      if (start.getAttribute("role") === "combobox" || start.hasAttribute("aria-autocomplete")) return;  // its own Enter
      // a field that looks something up as it is typed (…-find: the relation's "To customer or contact person",
      // Merge…'s search): Enter there is a search's Enter, never the form's Save with the first hit chosen for you
      if (path.some((n) => n instanceof Element && [...n.classList].some((c) => /-find$/.test(c)))) return;
      const found = ownForm(path);
      const button = found && pressed(found.save);
      if (!button || button.disabled) return;
      event.preventDefault();
      // the field sends what it holds first (Bokeh sends it on its change event, which Enter's default would
      // fire): then the click, after it on the same connection
      start.dispatchEvent(new Event("change", {bubbles: true}));
      setTimeout(() => { if (button.isConnected && !button.disabled) button.click(); }, 0);
      return;
    }
    const found = ownForm(path);
    if (!found) return;
    const button = pressed(found.cancel);
    if (button && !button.disabled) { event.preventDefault(); button.click(); }
  }, true);

  // The page's title names the customer: renamed on the page (or by someone else, heard live), the tab, the
  // history and a screen reader's window list follow the heading.
  let titled = null;
  function retitle(root) {
    const heading = root.querySelector("#cc-customer-name");
    if (!heading) return;
    const name = heading.textContent.trim();
    if (titled !== null && name && name !== titled && document.title.includes(titled)) {
      document.title = document.title.split(titled).join(name);
    }
    titled = name;
  }

  function flush() {
    scheduled = false;
    const roots = [...pending];
    pending.clear();
    for (const root of roots) {
      labels(root); tabs(root); announce(root); requests(root); uploads(root); retitle(root);
      if (hasFields(root)) fieldRoots.add(root);
    }
    for (const root of fieldRoots) {
      if (root.host.isConnected) { root.ccConnected = true; fieldState(root); }
      else if (root.ccConnected) fieldRoots.delete(root);  // its form was closed
    }
    focusWaiting();
    rescueFocus();
    if (waiting.size) later(100);
  }
  function later(delay) {
    if (!scheduled) { scheduled = true; setTimeout(flush, delay); }
  }
  function queue(root) { pending.add(root); later(0); }
  function watch(root) {
    if (watched.has(root)) return;
    watched.add(root);
    root.addEventListener("focusin", onFocusIn, true);
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
