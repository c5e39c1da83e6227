// A form's fields in a grid (customercard.ui.form.FormGrid): per field a box with its widget (the component's child,
// never moved again) and, under it, its message and notice as plain text, hidden while they say nothing.
function render({ model, el }) {
  const grid = document.createElement("div");
  grid.className = "cc-form-grid";
  const kids = model.get_child();
  const parts = [];
  function note(kind) {
    const box = document.createElement("div");
    box.className = (kind === "error" ? "cc-field-error" : "cc-field-notice") + " hidden";
    box.hidden = true;
    return box;
  }
  model.cells.forEach((cell, i) => {
    const box = document.createElement("div");
    box.className = "cc-field " + cell.css;
    if (kids[i]) box.appendChild(kids[i]);
    const error = note("error"), notice = note("notice");
    box.append(error, notice);
    grid.appendChild(box);
    parts.push({error, notice});
  });
  function say(box, text, css) {
    const shown = box.textContent;
    if (!text) {
      if (!box.hidden) { box.hidden = true; box.classList.add("hidden"); box.replaceChildren(); }
      return;
    }
    if (shown === text && !box.hidden) return;
    const span = document.createElement("span");
    span.className = css; span.textContent = text;
    box.replaceChildren(span);
    box.hidden = false; box.classList.remove("hidden");
  }
  function notes() {
    model.cells.forEach((cell, i) => {
      const part = parts[i];
      if (!part) return;
      say(part.error, cell.error, "cc-error-text");
      say(part.notice, cell.notice, "cc-notice-text");
    });
  }
  // model.columns a row where there is room; fewer (one on a narrow screen, zoomed 200-400 %) where a field would
  // be narrower than 220 px: nothing needs a sideways scroll (WCAG 1.4.10 Reflow)
  function columns() {
    grid.style.gridTemplateColumns =
      "repeat(auto-fill, minmax(max(min(220px, 100%), calc(100% / " + model.columns + ")), 1fr))";
  }
  columns(); notes();
  model.on("cells", notes);
  model.on("columns", columns);
  return grid;
}
