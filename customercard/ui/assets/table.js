function render({ model, el }) {
  const table = document.createElement("table");
  // A box checked (or unchecked) here that the server has not confirmed yet (row id -> checked): the rows drawn
  // again meanwhile (a customer saved elsewhere refreshes the page) draw it as the user left it, not as the server
  // last said — the check was lost under the user's pointer, until the server's answer drew it back.
  const pending = new Map();
  // A check box (or a column's sort button) used by keyboard is drawn again with the rest: the focus goes to the
  // one drawn in its place, not to the page's start (checking a second customer meant tabbing down again).
  function focusedKey() {
    const root = table.getRootNode();
    const active = root && root.activeElement;
    if (!active || !table.contains(active)) return null;
    return active.dataset.focusKey || null;
  }
  function draw() {
    const had = focusedKey();
    drawAll();
    if (had) {
      const again = [...table.querySelectorAll("[data-focus-key]")].find((n) => n.dataset.focusKey === had);
      if (again) again.focus({preventScroll: true});  // (where it was: the page does not jump to it)
    }
  }
  function drawAll() {
    table.replaceChildren();
    if (model.caption) table.createCaption().textContent = model.caption;
    const head = table.createTHead().insertRow();
    const picked = new Set(model.selectable ? model.selected : []);
    for (const [id, on] of pending) { if (on) picked.add(id); else picked.delete(id); }
    const ids = model.rows.filter((row) => row._id !== undefined).map((row) => row._id);
    function box(label, checked, ids_) {
      const input = document.createElement("input");
      input.type = "checkbox"; input.checked = checked; input.setAttribute("aria-label", label);
      input.addEventListener("change", () => {
        for (const id of ids_) pending.set(id, input.checked);
        model.send_msg({select: ids_, on: input.checked});
      });
      return input;
    }
    if (model.selectable) {
      const th = document.createElement("th");
      th.className = "cc-select";
      const all = box(model.select_page_label, ids.length > 0 && ids.every((i) => picked.has(i)), ids);
      all.className = "cc-select-page"; all.dataset.focusKey = "page";
      th.appendChild(all);
      head.appendChild(th);
    }
    for (const col of model.columns) {
      const th = document.createElement("th");
      th.scope = "col";
      if (col.num) th.className = "num";
      if (col.sortable) {
        const b = document.createElement("button");
        b.textContent = col.label;
        b.dataset.key = col.key; b.dataset.focusKey = "sort:" + col.key;
        b.title = model.sort_label.replace("{label}", () => col.label);
        b.addEventListener("click", () => {
          if (model.sort === col.key) { model.descending = !model.descending; }
          else { model.descending = false; model.sort = col.key; }
        });
        th.appendChild(b);
        if (model.sort === col.key) {
          const s = document.createElement("span");
          s.className = "arrow"; s.textContent = model.descending ? "▼" : "▲";
          th.appendChild(s);
          th.setAttribute("aria-sort", model.descending ? "descending" : "ascending");
        }
      } else { th.textContent = col.label; }
      head.appendChild(th);
    }
    let body = null;
    if (!model.rows.length) {
      const td = table.createTBody().insertRow().insertCell();
      td.colSpan = model.columns.length + (model.selectable ? 1 : 0); td.className = "empty";
      td.textContent = model.empty_text;
    }
    for (const row of model.rows) {
      if (row._group !== undefined) {  // a group: its own row group, named by a header cell
        body = table.createTBody();
        const th = document.createElement("th");
        th.scope = "rowgroup"; th.colSpan = model.columns.length; th.className = "group";
        th.textContent = row._group;
        body.insertRow().appendChild(th);
        continue;
      }
      if (body === null) body = table.createTBody();
      const tr = body.insertRow();
      if (model.selectable) {
        const name = row.name || model.columns.map((col) => row[col.key]).find((v) => v) || String(row._id);
        const check = box(model.select_label.replace("{name}", () => name), picked.has(row._id), [row._id]);
        check.className = "cc-select-row"; check.dataset.focusKey = "row:" + row._id;
        tr.insertCell().appendChild(check);
      }
      for (const col of model.columns) {
        const td = tr.insertCell();
        td.className = (col.num ? "num " : "") + "cc-col-" + col.key;
        const text = row[col.key] == null ? "" : String(row[col.key]);
        if (col.link && row[col.link]) {
          const a = document.createElement("a");
          a.href = row[col.link]; a.textContent = text;
          td.appendChild(a);
        } else if (col.action && text) {
          const b = document.createElement("button");
          b.className = "cc-row-" + col.action; b.textContent = text;
          b.addEventListener("click", () => model.send_msg({action: col.action, id: row._id}));
          td.appendChild(b);
        } else { td.textContent = text; }
      }
    }
  }
  draw();
  model.on("selected", () => {  // (before the drawing below) what the server has now confirmed is its own again
    const now = new Set(model.selected);
    for (const [id, on] of pending) if (now.has(id) === on) pending.delete(id);
  });
  model.on("selectable", () => pending.clear());
  model.on(["rows", "columns", "sort", "descending", "empty_text", "caption", "selected", "selectable"], draw);
  return table;
}
