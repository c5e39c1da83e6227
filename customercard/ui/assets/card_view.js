function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "cc-sections";
  const drawn = new Map();  // key -> {wrap, box, toggle, tools, body, html, sig, child}
  const wants = state.wants || (state.wants = {});  // key -> a fold the browser made, not yet confirmed (kept
                                                    // across drawings of the whole card)
  // __CC_BAR_CHART__
  function on_bar(canvas, bar) {
    const key = key_of(canvas);
    if (key !== null) model.send_msg({section: key, action: canvas.dataset.action, value: null, id: bar.year});
  }
  function entry_of(key) { return model.sections.find((e) => e.key === key); }
  function send(key, target, value) {
    const msg = {section: key, action: target.dataset.action, value: value};
    if (target.dataset.id !== undefined) msg.id = target.dataset.id;
    if (target.dataset.version !== undefined) msg.version = target.dataset.version;
    model.send_msg(msg);
  }
  function key_of(node) {
    const box = node.closest("[data-section]");
    return box ? box.dataset.section : null;
  }
  function head(part, entry) {
    part.box.className = "cc-sv" + (entry.collapsed ? " collapsed" : "");
    part.toggle.setAttribute("aria-expanded", String(!entry.collapsed));
    const chev = document.createElement("span");
    chev.className = "chev"; chev.textContent = entry.collapsed ? "▸" : "▾";
    chev.setAttribute("aria-hidden", "true");
    const name = document.createElement("span");
    name.className = "cc-sv-name"; name.id = "cc-name-" + entry.key; name.textContent = entry.title;
    part.toggle.replaceChildren(chev, name);
    // a tool drawn again keeps the focus it had (a keyboard user who went on to it is not sent to the page)
    const active = part.tools.getRootNode().activeElement;
    const had = active && part.tools.contains(active) ? active.dataset.action : null;
    part.tools.replaceChildren();
    if (!entry.collapsed) {
      for (const tool of entry.tools) {
        const b = document.createElement("button");
        b.dataset.action = tool.action; b.textContent = tool.label;
        b.className = "cc-tool-" + tool.action;
        b.setAttribute("aria-describedby", name.id);  // "Edit", said with the section it edits
        part.tools.appendChild(b);
        const done = state.tool_focus || (state.tool_focus = new Set());
        if (tool.focus && !done.has(tool.focus)) {  // a form it opened was closed: the focus comes back here, once
          done.add(tool.focus);
          setTimeout(() => { if (b.isConnected) b.focus(); }, 0);
        } else if (tool.action === had) b.focus();
      }
    }
    part.sig = JSON.stringify([entry.title, entry.collapsed, entry.tools]);
  }
  root.addEventListener("click", (event) => {
    const toggle = event.target.closest(".cc-sv-toggle");
    if (toggle) {
      const key = key_of(toggle);
      const part = drawn.get(key);
      const entry = entry_of(key);
      if (!part || !entry) return;
      const collapsed = !part.box.classList.contains("collapsed");
      head(part, {...entry, collapsed: collapsed});  // at once; the server confirms
      // until it does, what it sent before (a fold undone since) is not drawn again — nor by the whole card drawn
      // anew meanwhile (a form's new child), which would show the section folded again a moment
      wants[key] = collapsed;
      model.send_msg({section: key, toggle: collapsed});
      return;
    }
    const target = event.target.closest("[data-action]");
    // (a chart's canvas sends its own clicks: the bar's year, see bar_chart.js)
    if (!target || target.tagName === "SELECT" || target.tagName === "INPUT" || target.tagName === "CANVAS") return;
    const key = key_of(target);
    if (key === null) return;
    event.preventDefault();
    send(key, target, null);
  });
  root.addEventListener("change", (event) => {
    const target = event.target.closest("[data-action]");
    if (!target) return;
    const key = key_of(target);
    if (key === null) return;
    send(key, target, target.type === "checkbox" ? target.checked : target.value);
  });
  function child_el(index) {
    if (index < 0) return null;
    const kids = model.get_child();
    return (kids && kids[index]) || null;
  }
  function place(part, entry) {
    const child = child_el(entry.child);
    if (child === part.child && part.body.firstChild !== null) return;
    part.child = child;
    // a child already in place is never taken out to be put back (a field in it that has the focus would lose it:
    // the form opened in a section's held place, then put before the HTML): the HTML moves around it instead
    const slot = part.html.querySelector(".cc-child-slot");  // the HTML says where its child goes
    if (slot) {
      if (part.body.firstChild !== part.html || part.body.childNodes.length !== 1) part.body.replaceChildren(part.html);
      if (child ? slot.firstChild !== child || slot.childNodes.length !== 1 : slot.firstChild !== null) {
        slot.replaceChildren(...(child ? [child] : []));
      }
      return;
    }
    for (const node of [...part.body.childNodes]) { if (node !== child && node !== part.html) node.remove(); }
    if (part.html.parentNode !== part.body) part.body.appendChild(part.html);
    if (!child) return;
    if (child.parentNode !== part.body) {
      if (entry.child_first) part.body.insertBefore(child, part.html); else part.body.appendChild(child);
    } else if (entry.child_first !== (child.nextSibling === part.html)) {
      if (entry.child_first) part.body.appendChild(part.html); else part.body.insertBefore(part.html, child);
    }
  }
  function make(entry) {
    const wrap = document.createElement("div");
    wrap.className = "cc-section cc-section-" + entry.key;
    wrap.dataset.section = entry.key;
    const box = document.createElement("section");
    box.setAttribute("aria-labelledby", "cc-name-" + entry.key);
    const bar = document.createElement("div");
    bar.className = "cc-sv-head";
    const title = document.createElement("h2");
    title.className = "cc-sv-title";
    const toggle = document.createElement("button");
    toggle.className = "cc-sv-toggle";
    toggle.setAttribute("aria-controls", "cc-body-" + entry.key);  // a disclosure button: what it folds
    title.appendChild(toggle);
    const tools = document.createElement("span");
    tools.className = "cc-sv-tools";
    bar.append(title, tools);
    const body = document.createElement("div");
    body.className = "cc-sv-body"; body.id = "cc-body-" + entry.key;
    const html = document.createElement("div");
    html.className = "cc-sv-html";
    box.append(bar, body);
    wrap.appendChild(box);
    return {wrap, box, toggle, tools, body, html, sig: null, html_text: null, child: undefined};
  }
  // A section's HTML drawn again (a filter chosen, a list shown in full, a comparison made) replaces the element
  // that had the focus: the focus goes on to the same control in the new HTML (the same action, and item), with
  // what was typed in a text field and where its caret was; a control that is gone gives it to the section's
  // heading (a message or form that asks for the focus takes it after this). Never to the page's start.
  function focus_before() {
    const active = root.getRootNode().activeElement;
    if (!active || !root.contains(active)) return null;
    for (const [key, part] of drawn) {
      if (!part.html.contains(active)) continue;
      const target = active.closest("[data-action]");
      const typed = active.tagName === "INPUT" && /^(text|search)$/.test(active.type) ?
        {value: active.value, start: active.selectionStart, end: active.selectionEnd} : null;
      return {key: key, el: active, action: target ? target.dataset.action : null,
              id: target ? target.dataset.id : undefined, typed: typed};
    }
    return null;
  }
  function focus_after(had) {
    if (!had) return;
    const active = root.getRootNode().activeElement;
    if (active === had.el && had.el.isConnected) return;  // not replaced
    if (active && active !== had.el) return;  // moved on purpose
    const part = drawn.get(had.key);
    if (!part || !part.box.isConnected) return;
    let again = had.el.isConnected && part.box.contains(had.el) ? had.el : null;
    if (!again && had.action) {
      const same = [...part.box.querySelectorAll('[data-action="' + CSS.escape(had.action) + '"]')];
      again = same.find((el) => el.dataset.id === had.id) || same.find((el) => el.dataset.id === undefined) || null;
    }
    if (!again || !shown(again)) again = part.toggle;
    again.focus();
    if (had.typed && again.tagName === "INPUT" && again.type !== "checkbox") {
      if (again.value !== had.typed.value) again.value = had.typed.value;  // typed since it was sent
      try { again.setSelectionRange(had.typed.start, had.typed.end); } catch (e) { /* not a text field */ }
    }
  }
  const shown = (el) => el.getClientRects().length > 0;
  function draw() {
    const had = focus_before();
    try { draw_sections(); } finally { focus_after(had); }
  }
  function draw_sections() {
    const order = [];
    for (const entry of model.sections) {
      let part = drawn.get(entry.key);
      if (!part) { part = make(entry); drawn.set(entry.key, part); }
      const want = wants[entry.key];
      const stale = want !== undefined && entry.collapsed !== want;
      if (!stale) delete wants[entry.key];
      const drawn_as = stale ? {...entry, collapsed: want} : entry;
      const sig = JSON.stringify([drawn_as.title, drawn_as.collapsed, drawn_as.tools]);
      if (sig !== part.sig) head(part, drawn_as);  // (not again when the server confirms a fold)
      if (entry.html !== part.html_text) {
        part.html.innerHTML = entry.html; part.html_text = entry.html;
        if (part.html.querySelector(".cc-child-slot")) part.child = undefined;  // (placed in the new HTML)
        charts_in(part.html, on_bar);
      }
      if (entry.child_first !== part.child_first) { part.child_first = entry.child_first; part.child = undefined; }
      place(part, entry);
      order.push(part.wrap);
    }
    for (const key of [...drawn.keys()]) {
      if (!model.sections.some((e) => e.key === key)) drawn.delete(key);
    }
    // only what changed is moved: a section switched on or off by an administrator comes or goes, and the others
    // stay where they are (moved, a section's node loses the focus — someone typing in its form)
    const wanted = new Set(order);
    for (const node of [...root.children]) { if (!wanted.has(node)) node.remove(); }
    order.forEach((node, i) => { if (root.children[i] !== node) root.insertBefore(node, root.children[i] || null); });
  }
  // A new child (a form opened or closed) draws the whole component again: keep the focus where it was.
  root.addEventListener("focusin", (event) => {
    const key = key_of(event.target);
    const target = event.target.closest("[data-action], .cc-sv-toggle");
    if (key !== null && target) {
      state.focus = {key: key, action: target.dataset.action || null, id: target.dataset.id};
    }
  });
  draw();
  model.on("sections", draw);
  // Drawn again, the focus goes back where it was — at once, in this same turn (a key pressed before a later turn
  // would go to the page and be lost: Enter on the next section's toggle), or once this draw is in the page
  const was = state.focus;
  function give_back() {  // only when the focus was lost with the old drawing
    const part = was && drawn.get(was.key);
    if (!part || !part.box.isConnected) return false;
    if (document.activeElement !== null && document.activeElement !== document.body) return true;
    const same = was.action === null ? [] :
      [...part.box.querySelectorAll('[data-action="' + CSS.escape(was.action) + '"]')];
    let again = was.action === null ? part.toggle
      : same.find((el) => el.dataset.id === was.id) || same.find((el) => el.dataset.id === undefined) || part.toggle;
    if (!shown(again)) again = part.toggle;  // (a control in a folded section cannot take it)
    again.focus();
    return true;
  }
  el.replaceChildren(root);
  if (!give_back()) setTimeout(give_back, 0);
}
