function render({ model, el }) {
  const root = document.createElement("div");
  const hint = document.createElement("p");
  hint.className = "cc-board-hint"; hint.id = "cc-board-hint";
  const board = document.createElement("div");
  board.className = "cc-board";
  const said = document.createElement("div");
  said.className = "cc-sr cc-board-live"; said.setAttribute("aria-live", "polite");
  root.append(hint, board, said);
  let focusId = null, asked = {};
  function say(text) { said.textContent = ""; setTimeout(() => { said.textContent = text; }, 50); }
  // a text's {names} filled in one pass, each value as it is (a title with "$&" or "{stage}" in it stays itself)
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, (m, k) => (Object.hasOwn(values, k) ? String(values[k]) : m));
  }
  function move(card, stage) {
    const t = model.texts;
    say(fill(t.moving, {title: card.title, stage: labels[stage] ?? stage}));
    focusId = card.id;
    model.send_msg({action: "move", id: card.id, version: card.version, stage: stage});
  }
  function item(term, value, dl) {
    if (!value) return;
    const dt = document.createElement("dt"); dt.textContent = term;
    const dd = document.createElement("dd"); dd.textContent = value;
    dl.append(dt, dd);
  }
  function drawCard(card, col, index, stages) {
    const t = model.texts;
    const li = document.createElement("li");
    li.className = "cc-board-card"; li.dataset.id = card.id;
    const title = document.createElement(model.can_move ? "button" : "span");
    title.className = "cc-board-title" + (model.can_move ? "" : " cc-plain");
    title.textContent = card.title || "—"; title.dataset.id = card.id;
    li.appendChild(title);
    const dl = document.createElement("dl");
    const dt = document.createElement("dt"); dt.textContent = t.customer;
    const dd = document.createElement("dd");
    const a = document.createElement("a"); a.href = card.href; a.textContent = card.customer; dd.appendChild(a);
    dl.append(dt, dd);
    item(t.amount, card.amount, dl); item(t.probability, card.probability, dl);
    item(t.close, card.close, dl); item(t.owner, card.owner, dl);
    li.appendChild(dl);
    if (!model.can_move) return li;
    const open = () => model.send_msg({action: "open", id: card.id});
    title.addEventListener("click", open);
    li.addEventListener("click", (e) => { if (!e.target.closest("a, select, button")) open(); });
    li.tabIndex = 0; li.draggable = true;
    li.setAttribute("aria-describedby", "cc-board-hint");
    li.addEventListener("dragstart", (e) => {
      e.dataTransfer.setData("text/plain", String(card.id));
      e.dataTransfer.effectAllowed = "move";
      dragged = card; li.classList.add("cc-moving");
    });
    li.addEventListener("dragend", () => li.classList.remove("cc-moving"));
    li.addEventListener("keydown", (e) => {
      // Enter on the card is its title's click: the page then knows what opened the editor, and its Cancel (or
      // Escape) gives the focus back there, not to the page's start
      if (e.target === li && e.key === "Enter") { e.preventDefault(); title.click(); return; }
      if (e.target !== li || (e.key !== "ArrowLeft" && e.key !== "ArrowRight")) return;
      const to = stages[index + (e.key === "ArrowLeft" ? -1 : 1)];
      e.preventDefault();
      if (to === undefined) { say(t.no_further); return; }
      move(card, to);
    });
    const select = document.createElement("select");
    select.className = "cc-board-move";
    select.setAttribute("aria-label", fill(t.move_to_named, {title: card.title}));
    const first = document.createElement("option");
    first.value = ""; first.textContent = t.move_to; select.appendChild(first);
    for (const stage of stages) {
      if (stage === col.stage) continue;
      const o = document.createElement("option"); o.value = stage; o.textContent = labels[stage] ?? stage;
      select.appendChild(o);
    }
    // Chosen with the mouse, or in the opened list (Space, Alt+Down or F4 open it): moved at once. Arrowed through
    // while closed, the list only shows the stage (Chromium says "changed" at each arrow key or letter): Enter moves
    // there, so a later stage is reachable; left without Enter, it shows "Move to…" again.
    let arrowed = false;
    select.addEventListener("mousedown", () => { arrowed = false; });
    select.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault(); e.stopPropagation();
        arrowed = false;
        if (select.selectedIndex > 0) move(card, select.value);
        return;
      }
      const opens = e.key === " " || e.key === "F4" || (e.altKey && (e.key === "ArrowDown" || e.key === "ArrowUp"));
      if (opens) { arrowed = false; return; }
      if (["ArrowUp", "ArrowDown", "Home", "End", "PageUp", "PageDown"].includes(e.key) ||
          (e.key.length === 1 && !e.ctrlKey && !e.metaKey)) arrowed = true;
    });
    select.addEventListener("change", () => {
      if (arrowed) return;
      if (select.selectedIndex > 0) move(card, select.value);
    });
    select.addEventListener("blur", () => {
      if (arrowed) { arrowed = false; select.selectedIndex = 0; }
    });
    li.appendChild(select);
    return li;
  }
  let dragged = null, labels = {};
  // Where the focus is on the board (a card, or a part of it; a column's "Show more"), to be found again once the
  // board is drawn anew — by anyone's change, by more cards asked for as a column scrolled, by a move — so that a
  // keyboard user goes on from where they were instead of from the page's start.
  function focusedNow() {
    const active = board.getRootNode().activeElement;
    if (!active || !board.contains(active)) return null;
    const li = active.closest(".cc-board-card");
    if (li) {
      const part = active === li ? null : active.matches("select") ? "select.cc-board-move"
        : active.matches("a") ? "a" : "button.cc-board-title";
      return {id: li.dataset.id, part};
    }
    const section = active.closest(".cc-board-col");
    if (section && active.classList.contains("cc-board-more")) {  // the first card it brings, once drawn
      return {stage: section.dataset.stage, shown: section.querySelectorAll(".cc-board-card").length};
    }
    return null;
  }
  function focusAgain(was) {
    let target = null;
    if (was.id !== undefined) {
      const li = board.querySelector('.cc-board-card[data-id="' + was.id + '"]');
      target = li && (was.part ? li.querySelector(was.part) : li);
    } else if (was.stage !== undefined) {
      const section = [...board.querySelectorAll(".cc-board-col")].find((s) => s.dataset.stage === was.stage);
      const cards = section ? section.querySelectorAll(".cc-board-card") : [];
      // (a reader's cards take no focus: their customer's link does)
      const first = cards[was.shown] && (model.can_move ? cards[was.shown] : cards[was.shown].querySelector("a"));
      if (first) { first.focus({preventScroll: true}); first.scrollIntoView({block: "nearest"}); return; }
      target = section && section.querySelector(".cc-board-more");
    }
    if (target) target.focus({preventScroll: true});
  }
  function draw() {
    const t = model.texts;
    hint.textContent = model.can_move ? t.hint : t.read_only;
    const scrolls = {};
    for (const ul of board.querySelectorAll(".cc-board-cards")) scrolls[ul.dataset.stage] = ul.scrollTop;
    const kept = focusedNow();
    board.replaceChildren();
    asked = {};
    const stages = model.columns.map((c) => c.stage);
    labels = Object.fromEntries(model.columns.map((c) => [c.stage, c.label]));
    model.columns.forEach((col, index) => {
      const section = document.createElement("section");
      section.className = "cc-board-col"; section.dataset.stage = col.stage;
      const h = document.createElement("h2");
      h.id = "cc-board-col-" + index;
      h.textContent = col.label + " (" + col.count + ")";
      section.setAttribute("aria-labelledby", h.id);
      const sums = document.createElement("p");
      sums.className = "cc-board-sums";
      for (const [cls, text] of [["cc-board-sum", col.sum], ["cc-board-weighted", col.weighted]]) {
        const s = document.createElement("span"); s.className = cls; s.textContent = text; sums.appendChild(s);
      }
      const ul = document.createElement("ul");
      ul.className = "cc-board-cards"; ul.dataset.stage = col.stage;
      ul.setAttribute("aria-labelledby", h.id);
      if (!col.cards.length) {
        const li = document.createElement("li"); li.className = "cc-board-empty"; li.textContent = t.empty;
        ul.appendChild(li);
      }
      for (const card of col.cards) ul.appendChild(drawCard(card, col, index, stages));
      section.append(h, sums, ul);
      if (col.more > 0) {
        const more = document.createElement("button");
        more.className = "cc-board-more";
        more.textContent = fill(t.show_more, {n: col.more_text});
        more.addEventListener("click", () => {
          asked[col.stage] = true; model.send_msg({action: "more", stage: col.stage});
        });
        section.appendChild(more);
        ul.addEventListener("scroll", () => {
          if (asked[col.stage] || ul.scrollTop + ul.clientHeight < ul.scrollHeight - 40) return;
          asked[col.stage] = true;
          model.send_msg({action: "more", stage: col.stage});
        });
      }
      if (model.can_move) {
        section.addEventListener("dragover", (e) => {
          if (!dragged) return;
          e.preventDefault(); e.dataTransfer.dropEffect = "move"; section.classList.add("cc-drop");
        });
        section.addEventListener("dragleave", (e) => {
          if (!section.contains(e.relatedTarget)) section.classList.remove("cc-drop");
        });
        section.addEventListener("drop", (e) => {
          e.preventDefault(); section.classList.remove("cc-drop");
          const card = dragged; dragged = null;
          if (card && stages[index] !== undefined && !col.cards.some((c) => c.id === card.id)) {
            move(card, col.stage); focusId = null;
          }
        });
      }
      board.appendChild(section);
      if (scrolls[col.stage]) ul.scrollTop = scrolls[col.stage];
    });
    if (focusId !== null) {  // a card moved from here: it, in its new column
      const again = board.querySelector('.cc-board-card[data-id="' + focusId + '"]');
      if (again) { again.focus(); focusId = null; return; }
    }
    if (kept) focusAgain(kept);
  }
  draw();
  model.on(["columns", "can_move", "texts"], draw);
  return root;
}
