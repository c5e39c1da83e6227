function render({ model, el }) {
  const input = document.createElement("input");
  input.type = "search"; input.placeholder = model.placeholder; input.autocomplete = "off";
  input.setAttribute("aria-label", model.placeholder); input.id = "cc-super-search";
  input.maxLength = model.max_length; input.title = model.max_length_label.replace("{n}", () => String(model.max_length));
  // a combobox: the hits are its list box, the active one told to screen readers as the focus stays here
  input.setAttribute("role", "combobox"); input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false"); input.setAttribute("aria-controls", "cc-super-search-hits");
  const list = document.createElement("ul");
  list.id = "cc-super-search-hits";
  list.setAttribute("role", "listbox"); list.setAttribute("aria-label", model.placeholder); list.hidden = true;
  function shown(open) {
    list.hidden = !open;
    input.setAttribute("aria-expanded", String(open));
    const current = open && list.querySelector("li.active");
    if (current) input.setAttribute("aria-activedescendant", current.id);
    else input.removeAttribute("aria-activedescendant");
  }
  let active = 0, pendingEnter = false, focused = false, inFlight = false, safety = null;
  // Each keystroke's query goes to the server at once unless one is still being answered; then only the
  // latest text follows when the answer comes (superseded texts are never sent). No fixed pause.
  function send(value) {
    if (value === model.query) return;  // answered already, or on its way
    inFlight = true; model.query = value;
    clearTimeout(safety);
    safety = setTimeout(() => { inFlight = false; follow(); }, 3000);  // no answer: do not wait forever
  }
  function follow() { if (!inFlight) send(input.value); }
  function items() {
    const out = model.results.map(r => ({href: r.href, name: r.name, detail: r.detail}));
    if (input.value.trim()) out.push({href: "/search?q=" + encodeURIComponent(input.value.trim()),
                                      name: model.more_label.replace("{q}", () => input.value.trim()), more: true});
    return out;
  }
  function draw() {
    const all = items();
    list.replaceChildren();
    list.dataset.for = model.searched[0] ?? "";
    if (!input.value.trim() || (!focused && !pendingEnter)) { shown(false); return; }
    if (model.searched[0] === input.value && !model.results.length) {
      const li = document.createElement("li"); li.className = "none"; li.textContent = model.none_label;
      li.setAttribute("role", "option"); li.setAttribute("aria-disabled", "true"); li.id = "cc-hit-none";
      list.appendChild(li);
    }
    all.forEach((item, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option"); li.id = "cc-hit-" + i;
      li.setAttribute("aria-selected", String(i === active));
      li.className = (item.more ? "more" : "hit") + (i === active ? " active" : "");
      const name = document.createElement("span"); name.className = "name"; name.textContent = item.name;
      li.appendChild(name);
      if (item.detail) {
        const d = document.createElement("span"); d.className = "detail"; d.textContent = item.detail;
        li.appendChild(d);
      }
      li.addEventListener("mousedown", (e) => { e.preventDefault(); window.location.href = item.href; });
      list.appendChild(li);
    });
    shown(true);
  }
  input.addEventListener("input", () => {
    active = 0;
    follow();
    draw();
  });
  input.addEventListener("keydown", (e) => {
    const all = items();
    if (e.key === "ArrowDown") { e.preventDefault(); active = Math.min(active + 1, all.length - 1); draw(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); active = Math.max(active - 1, 0); draw(); }
    else if (e.key === "Escape") {
      // the first Escape closes the list and keeps the text (ArrowDown opens it again); with the list closed, the
      // search box's own Escape clears it
      if (!list.hidden) { e.preventDefault(); shown(false); }
    }
    else if (e.key === "Enter") {
      e.preventDefault();
      if (model.searched[0] === input.value && all[active]) { window.location.href = all[active].href; }
      else { pendingEnter = true; follow(); }
    }
  });
  input.addEventListener("focus", () => { focused = true; draw(); });
  input.addEventListener("blur", () => { focused = false; setTimeout(() => shown(false), 150); });
  model.on(["results", "searched"], () => {
    inFlight = false; clearTimeout(safety);
    active = 0; draw();
    if (pendingEnter && model.searched[0] === input.value) {
      pendingEnter = false;
      const all = items();
      if (all[0]) window.location.href = all[0].href;
    }
    follow();  // what was typed meanwhile
  });
  el.append(input, list);
}
