/* One request's traces: facts, a waterfall of spans on a time axis, masked previews for admins who ask. */
"use strict";

aigw.page("trace", () => {
  const { api, el, svg, fmt, table, state, badge } = aigw;
  const requestId = document.getElementById("request-id").dataset.requestId;
  const ROW = 34;
  const LABEL = 190;
  const AXIS = 22;

  function facts(trace) {
    const pairs = [
      ["Started", fmt.time(trace.started_at)], ["Status", `${trace.status} (HTTP ${trace.http_status ?? "–"})`],
      ["Endpoint", `${trace.method || ""} ${trace.endpoint || ""}`], ["Model", trace.model], ["Provider", trace.provider],
      ["Deployment", trace.deployment], ["Served by", trace.served_by], ["Cache", trace.cache], ["Fallback from", trace.fallback_from],
      ["Error", trace.error_code], ["Key", trace.key_id], ["User", trace.user], ["Duration", fmt.ms(trace.duration_ms)],
      ["Added by the gateway", fmt.ms(trace.added_latency_ms)], ["Upstream", fmt.ms(trace.upstream_ms)],
      ["Tokens (prompt / answer)", `${fmt.int(trace.prompt_tokens)} / ${fmt.int(trace.completion_tokens)}`], ["Cost", fmt.usd(trace.cost_usd)],
      ["Personal data found", trace.pii ? Object.entries(trace.pii).map(([k, n]) => `${k}: ${n}`).join(", ") : "none"],
    ];
    return el("dl", { class: "facts" }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  }

  function spanLabel(span) {
    const a = span.attributes || {};
    const details = [a.provider, a.attempt ? `attempt ${a.attempt}` : null, a.decision, a.breaker ? `breaker ${a.breaker}` : null].filter(Boolean);
    return details.join(" · ");
  }

  /** Spans as bars on a time axis: x is the time since the request started. */
  function waterfall(trace, spans) {
    const width = 900;
    const total = Math.max(trace.duration_ms || 0, ...spans.map((s) => s.start_ms + s.duration_ms), 0.001);
    const plot = width - LABEL - 10;
    const x = (ms) => LABEL + (ms / total) * plot;
    const height = AXIS + spans.length * ROW + 4;
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `Waterfall of ${spans.length} spans over ${fmt.ms(total)}` });
    const step = aigw.chart ? aigw.chart.niceStep(total, 5) : total / 5;
    for (let ms = 0; ms <= total + step / 2; ms += step) {
      const tick = svg("g", { class: "tick" });
      tick.append(svg("line", { x1: x(ms), x2: x(ms), y1: AXIS - 4, y2: height }));
      const label = svg("text", { x: x(ms), y: 12, "text-anchor": ms === 0 ? "start" : "middle" });
      label.textContent = fmt.ms(ms);
      tick.append(label);
      root.append(tick);
    }
    spans.forEach((span, i) => {
      const top = AXIS + i * ROW;
      if (i % 2 === 0) root.append(svg("rect", { class: "band", x: 0, y: top, width, height: ROW }));
      const name = svg("text", { class: "row-label", x: 6, y: top + 14 });
      name.textContent = span.name;
      const sub = svg("text", { class: "row-sub", x: 6, y: top + 28 });
      sub.textContent = spanLabel(span);
      const bar = svg("rect", { class: `bar ${span.name}${span.status && span.status !== "ok" ? " error" : ""}`, x: x(span.start_ms), y: top + 9, width: Math.max(x(span.start_ms + span.duration_ms) - x(span.start_ms), 2), height: ROW - 18, rx: 3 });
      const tip = svg("title");
      tip.textContent = `${span.name}: starts at ${fmt.ms(span.start_ms)}, takes ${fmt.ms(span.duration_ms)}${span.status && span.status !== "ok" ? ` (${span.status})` : ""}`;
      bar.append(tip);
      root.append(name, sub, bar);
    });
    return el("div", { class: "waterfall", "data-spans": spans.length }, root);
  }

  function previews(trace, index) {
    if (!document.getElementById("previews-allowed")) {
      return el("p", { class: "muted small", text: "Masked previews of the prompt and answer are shown to admins who ask." });
    }
    const box = el("div", { class: "previews" });
    const button = document.getElementById("previews-admin").content.firstElementChild.cloneNode(true);
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const revealed = (await api(`/admin/api/traces/${encodeURIComponent(requestId)}?previews=true`)).data[index] || {};
        box.replaceChildren(
          el("h3", { text: "Prompt (masked)" }), el("pre", { class: "preview", "data-preview": "prompt", text: revealed.prompt_preview || "(none stored)" }),
          el("h3", { text: "Answer (masked)" }), el("pre", { class: "preview", "data-preview": "answer", text: revealed.answer_preview || "(none stored)" }),
          el("p", { class: "muted small", text: "This reveal was recorded in the audit log." }));
      } catch (error) {
        button.disabled = false;
        aigw.toast(`Previews not shown: ${error.message}`, "error");
      }
    });
    box.append(button);
    return box;
  }

  function render(trace, index, count) {
    const spans = (trace.spans || []).filter((s) => s.name !== undefined);
    const dropped = (trace.spans || []).find((s) => s.dropped_spans)?.dropped_spans;
    return el("section", { class: "card", "data-trace": index },
      el("h2", {}, count > 1 ? `Trace ${index + 1} of ${count} with this request id ` : "Request ", badge(trace.status, trace.status === "ok" ? "ok" : "danger")),
      el("div", { class: "trace-facts" }, facts(trace)),
      el("h2", { text: "Where the time went" }),
      spans.length ? waterfall(trace, spans) : el("p", { class: "muted", text: "No spans recorded." }),
      dropped ? el("p", { class: "muted small", text: `${dropped} more spans were not kept.` }) : null,
      el("details", {}, el("summary", { text: "Spans as a table" }), table([
        { label: "Span", value: (s) => s.name },
        { label: "Start", value: (s) => fmt.ms(s.start_ms), num: true },
        { label: "Duration", value: (s) => fmt.ms(s.duration_ms), num: true },
        { label: "Status", value: (s) => s.status },
        { label: "Attributes", value: (s) => fmt.json(s.attributes || {}), cls: "value" },
      ], spans)),
      Object.keys(trace.attributes || {}).length ? el("details", {}, el("summary", { text: "Other attributes" }), el("pre", { class: "preview", text: JSON.stringify(trace.attributes, null, 2) })) : null,
      previews(trace, index));
  }

  async function load() {
    try {
      const answer = await api(`/admin/api/traces/${encodeURIComponent(requestId)}`);
      const traces = answer.data || [];
      document.getElementById("trace-list").replaceChildren(...traces.map((t, i) => render(t, i, traces.length)));
      state("trace-state");
      aigw.loaded();
    } catch (error) {
      state("trace-state", "error", error.status === 404 ? error.message : `Could not load the trace: ${error.message}`);
    }
  }

  load();
});
