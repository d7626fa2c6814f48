/* Time-series charts as inline SVG: lines (or bars), a value axis, a time axis, a hover read-out. */
"use strict";

aigw.chart = (() => {
  const { el, svg } = aigw;
  const MARGIN = { top: 10, right: 12, bottom: 22, left: 48 };

  /** Round steps for the value axis: 1, 2 or 5 times a power of ten. */
  function niceStep(max, count) {
    const raw = max / count;
    const power = 10 ** Math.floor(Math.log10(raw));
    const unit = raw / power;
    return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
  }

  function timeLabel(date, spanMs) {
    const options = spanMs > 36 * 3600e3 ? { month: "short", day: "numeric" } : { hour: "2-digit", minute: "2-digit" };
    return date.toLocaleString(undefined, options);
  }

  /**
   * Draws `data` in `container`, replacing what was there, and again when the container is resized.
   * data: {times: Date[], series: [{name, values: (number|null)[]}], format: n => text, bars: bool}
   */
  function draw(container, data) {
    container._chartData = data;
    if (!container._observed) {
      container._observed = new ResizeObserver(() => render(container));
      container._observed.observe(container);
    }
    render(container);
  }

  function render(container) {
    const data = container._chartData;
    const width = container.clientWidth || 400;
    const height = (container.clientHeight || 200) - (data.series.length > 1 ? 24 : 0);  // room for the legend
    const values = data.series.flatMap((s) => s.values).filter((v) => v !== null && Number.isFinite(v));
    if (!data.times.length || !values.length) {
      container.replaceChildren(el("div", { class: "chart-empty", text: "No traffic in this window" }));
      return;
    }
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = height - MARGIN.top - MARGIN.bottom;
    const step = niceStep(Math.max(...values, 0) || 1, 4);
    const top = Math.max(step * Math.ceil((Math.max(...values) || 1) / step), step);
    const t0 = data.times[0].getTime();
    const span = Math.max(data.times[data.times.length - 1].getTime() - t0, 1);
    const slot = plotW / data.times.length;
    const x = (i) => (data.bars ? MARGIN.left + slot * (i + 0.5) : MARGIN.left + ((data.times[i].getTime() - t0) / span) * plotW);
    const y = (v) => MARGIN.top + plotH - (v / top) * plotH;

    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, height, preserveAspectRatio: "none" });
    const grid = svg("g", { class: "grid axis" });
    for (let v = 0; v <= top + step / 2; v += step) {
      grid.append(svg("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(v), y2: y(v) }));
      const label = svg("text", { x: MARGIN.left - 6, y: y(v) + 3, "text-anchor": "end" });
      label.textContent = data.format(v);
      grid.append(label);
    }
    const ticks = Math.min(5, data.times.length);
    for (let k = 0; k < ticks; k += 1) {
      const i = Math.round((k * (data.times.length - 1)) / Math.max(ticks - 1, 1));
      const label = svg("text", { x: x(i), y: height - 6, "text-anchor": k === 0 ? "start" : k === ticks - 1 ? "end" : "middle" });
      label.textContent = timeLabel(data.times[i], span);
      grid.append(label);
    }
    root.append(grid);
    data.series.forEach((series, index) => root.append(data.bars ? bars(series, index, x, y, slot, plotH) : line(series, index, x, y, plotH)));
    const cursor = svg("line", { class: "cursor", y1: MARGIN.top, y2: MARGIN.top + plotH, visibility: "hidden" });
    root.append(cursor);
    const tip = el("div", { class: "chart-tip", hidden: true });
    hover(root, cursor, tip, data, x, { width, plotW });
    const legend = data.series.length > 1
      ? el("div", { class: "chart-legend" }, data.series.map((s, i) => el("span", {}, el("span", { class: `swatch s${i % 4}` }), s.name)))
      : null;
    container.replaceChildren(root, tip);
    if (legend) container.append(legend);
  }

  function line(series, index, x, y, plotH) {
    const group = svg("g");
    let path = "";
    let area = "";
    let open = false;
    let first = 0;
    series.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) { if (open) area += `L${x(i - 1)},${MARGIN.top + plotH}L${x(first)},${MARGIN.top + plotH}Z`; open = false; return; }
      path += `${open ? "L" : "M"}${x(i)},${y(v)}`;
      area += open ? `L${x(i)},${y(v)}` : `M${x(i)},${y(v)}`;
      if (!open) first = i;
      open = true;
    });
    if (open) area += `L${x(series.values.length - 1)},${MARGIN.top + plotH}L${x(first)},${MARGIN.top + plotH}Z`;
    if (index === 0) group.append(svg("path", { d: area, class: `area s${index % 4}` }));
    group.append(svg("path", { d: path, class: `line s${index % 4}` }));
    const present = (i) => i >= 0 && i < series.values.length && series.values[i] !== null && Number.isFinite(series.values[i]);
    series.values.forEach((v, i) => {  // a point without neighbours draws no line: a dot then
      if (present(i) && !present(i - 1) && !present(i + 1)) group.append(svg("circle", { cx: x(i), cy: y(v), r: 2.5, class: `s${index % 4}` }));
    });
    return group;
  }

  function bars(series, index, x, y, slot, plotH) {
    const group = svg("g");
    const width = Math.max(slot * 0.7, 1);
    series.values.forEach((v, i) => {
      if (!v) return;
      group.append(svg("rect", { x: x(i) - width / 2, y: y(v), width, height: MARGIN.top + plotH - y(v), class: `s${index % 4}` }));
    });
    return group;
  }

  function hover(root, cursor, tip, data, x, size) {
    root.addEventListener("mousemove", (event) => {
      const box = root.getBoundingClientRect();
      const px = ((event.clientX - box.left) / box.width) * size.width;
      let best = 0;
      data.times.forEach((_, i) => { if (Math.abs(x(i) - px) < Math.abs(x(best) - px)) best = i; });
      cursor.setAttribute("x1", x(best));
      cursor.setAttribute("x2", x(best));
      cursor.setAttribute("visibility", "visible");
      tip.replaceChildren(el("div", { class: "muted", text: data.times[best].toLocaleString() }),
        ...data.series.map((s) => el("div", {}, `${s.name}: `, el("strong", { text: s.values[best] === null ? "–" : data.format(s.values[best]) }))));
      tip.hidden = false;
      const left = (x(best) / size.width) * box.width;
      tip.style.left = `${Math.min(left + 10, box.width - 160)}px`;
      tip.style.top = "4px";
    });
    root.addEventListener("mouseleave", () => { cursor.setAttribute("visibility", "hidden"); tip.hidden = true; });
  }

  return { draw, niceStep };
})();
