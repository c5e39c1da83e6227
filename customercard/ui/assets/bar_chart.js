  // The card's bar chart (customercard.ui.sections.invoiced.chart_html): drawn on its canvas from the figures the
  // server wrote into the canvas's data-chart attribute — the years, each series' amounts and their texts as the
  // table writes them, the y axis's ticks already written in the reader's language. Drawn again when its box
  // changes width. A pointer over a year's bar shows its figures; a click on it sends the canvas's data-action
  // with the year (the figures table's year buttons do the same by keyboard).
  const CHART_PAD = {top: 10, right: 8, bottom: 26, axis: 18};
  function chart_layout(canvas, spec, width) {
    const ctx = canvas.getContext("2d");
    const family = getComputedStyle(canvas).fontFamily || "sans-serif";
    ctx.font = "12px " + family;
    const tick_width = Math.max(0, ...spec.ticks.map((tick) => ctx.measureText(tick[1]).width));
    const left = CHART_PAD.axis + tick_width + 10;
    const plot = {left: left, top: CHART_PAD.top, width: Math.max(width - left - CHART_PAD.right, 10),
                  height: Math.max(spec.height - CHART_PAD.top - CHART_PAD.bottom, 10)};
    const span = spec.hi - spec.lo || 1;
    const y_of = (value) => plot.top + plot.height * (spec.hi - value) / span;
    const slot = plot.width / Math.max(spec.years.length, 1);
    const group = slot * 0.8, bar_width = group / Math.max(spec.series.length, 1);
    const zero = y_of(0);
    const bars = [];
    spec.years.forEach((year, i) => {
      const start = plot.left + i * slot + (slot - group) / 2;
      spec.series.forEach((series, j) => {
        const top = y_of(series.amounts[i]);
        bars.push({year: year, series: series.name, text: series.texts[i], colour: series.colour,
                   x: start + j * bar_width, w: Math.max(bar_width - 1, 1), y: Math.min(top, zero),
                   h: Math.abs(zero - top), slot_start: plot.left + i * slot, slot_end: plot.left + (i + 1) * slot});
      });
    });
    return {ctx, family, plot, y_of, slot, zero, bars};
  }
  function draw_chart(canvas) {
    const box = canvas.parentElement;
    const width = Math.floor(box.getBoundingClientRect().width);
    if (!width) return;  // folded away: drawn when it is shown (its box gets a width)
    let spec;
    try { spec = JSON.parse(canvas.dataset.chart); } catch (error) { return; }
    canvas.cc_spec = spec;  // (for the hover)
    const ratio = window.devicePixelRatio || 1;
    canvas.style.width = width + "px";
    canvas.style.height = spec.height + "px";
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(spec.height * ratio);
    const {ctx, family, plot, y_of, slot, zero, bars} = chart_layout(canvas, spec, width);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, spec.height);
    ctx.font = "12px " + family;
    ctx.lineWidth = 1;
    // the y axis: grid lines at the ticks, their amounts, and the currency along it
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const [value, label] of spec.ticks) {
      const y = Math.round(y_of(value)) + 0.5;
      ctx.strokeStyle = "#e3e7ec";
      ctx.beginPath(); ctx.moveTo(plot.left, y); ctx.lineTo(plot.left + plot.width, y); ctx.stroke();
      ctx.fillStyle = "#444444";
      ctx.fillText(label, plot.left - 6, y);
    }
    ctx.save();
    ctx.translate(11, plot.top + plot.height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = "center";
    ctx.fillText(spec.currency, 0, 0);
    ctx.restore();
    for (const bar of bars) {
      ctx.fillStyle = bar.colour;
      ctx.fillRect(bar.x, bar.y, bar.w, bar.h);
    }
    // the x axis at zero, and the years under the plot (every n-th when they would not fit side by side)
    ctx.strokeStyle = "#666666";
    const axis = Math.round(zero) + 0.5;
    ctx.beginPath(); ctx.moveTo(plot.left, axis); ctx.lineTo(plot.left + plot.width, axis); ctx.stroke();
    const widest = Math.max(0, ...spec.years.map((year) => ctx.measureText(year).width)) + 8;
    const every = Math.max(1, Math.ceil(widest / slot));
    ctx.fillStyle = "#444444"; ctx.textAlign = "center"; ctx.textBaseline = "top";
    spec.years.forEach((year, i) => {
      if ((spec.years.length - 1 - i) % every === 0) {  // the latest year always
        ctx.fillText(year, plot.left + (i + 0.5) * slot, plot.top + plot.height + 6);
      }
    });
    canvas.cc_bars = bars;
    canvas.cc_width = width;
    canvas.dataset.drawn = "true";
  }
  function chart_bar_at(canvas, event) {
    const bars = canvas.cc_bars || [];
    const rect = canvas.getBoundingClientRect();
    const x = event.clientX - rect.left, y = event.clientY - rect.top;
    if (y < 0 || y > rect.height - CHART_PAD.bottom + 4) return null;
    // the bar whose column the pointer is in (a short bar is as easy to point at as a tall one)
    return bars.find((bar) => x >= bar.x && x < bar.x + bar.w + 1) || null;
  }
  function chart_tip(canvas, bar, event) {
    const tip = canvas.parentElement.querySelector(".cc-chart-tip");
    if (!tip) return;
    if (!bar) { tip.hidden = true; canvas.style.cursor = ""; return; }
    const spec = canvas.cc_spec;
    if (!spec) return;
    const values = {year: bar.year, series: bar.series, amount: bar.text};
    tip.replaceChildren(...spec.tip.map(([label, field]) => {
      const line = document.createElement("div");
      const name = document.createElement("span");
      name.className = "cc-chart-tip-label"; name.textContent = label + ": ";
      line.append(name, document.createTextNode(values[field]));
      return line;
    }));
    tip.hidden = false;
    canvas.style.cursor = "pointer";
    const rect = canvas.getBoundingClientRect();
    const left = Math.min(event.clientX - rect.left + 12, rect.width - tip.offsetWidth - 4);
    tip.style.left = Math.max(left, 0) + "px";
    tip.style.top = Math.max(event.clientY - rect.top - tip.offsetHeight - 8, 0) + "px";
  }
  const chart_sizes = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const canvas = entry.target.querySelector("canvas.cc-chart");
      if (canvas && Math.floor(entry.contentRect.width) !== canvas.cc_width) draw_chart(canvas);
    }
  });
  function charts_in(node, on_bar) {
    for (const canvas of node.querySelectorAll("canvas.cc-chart")) {
      chart_sizes.observe(canvas.parentElement);
      draw_chart(canvas);
      canvas.addEventListener("mousemove", (event) => chart_tip(canvas, chart_bar_at(canvas, event), event));
      canvas.addEventListener("mouseleave", () => chart_tip(canvas, null, null));
      canvas.addEventListener("click", (event) => {
        const bar = chart_bar_at(canvas, event);
        if (bar) on_bar(canvas, bar);
      });
    }
  }
