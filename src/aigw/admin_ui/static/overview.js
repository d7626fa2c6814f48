/* Overview: figures and charts from /admin/api/metrics/summary (every replica's rollups), refreshed. */
"use strict";

aigw.page("overview", () => {
  const { api, fmt, table, state } = aigw;
  const STEP_MS = { "1m": 60e3, "5m": 300e3, "1h": 3600e3 };
  const select = document.getElementById("window");

  /** One total per step across providers and models; latency percentiles weighted by requests. */
  function totals(summary) {
    const stepMs = STEP_MS[summary.step];
    const start = Date.parse(summary.start);
    const count = Math.max(Math.round((Date.parse(summary.end) - start) / stepMs), 1);
    const rows = Array.from({ length: count }, (_, i) => ({ t: new Date(start + i * stepMs), requests: 0, errors: 0, cost: 0, p50w: 0, p95w: 0, timed: 0 }));
    for (const series of summary.series || []) {
      for (const point of series.points) {
        const row = rows[Math.floor((Date.parse(point.t) - start) / stepMs)];
        if (!row) continue;
        row.requests += point.requests;
        row.errors += point.errors;
        row.cost += point.cost_usd;
        const latency = point.added_latency_ms || {};
        if (latency.p50 !== null && latency.p50 !== undefined) {
          row.p50w += latency.p50 * point.requests;
          row.p95w += (latency.p95 ?? latency.p50) * point.requests;
          row.timed += point.requests;
        }
      }
    }
    return { rows, stepMs };
  }

  function figures(rows, stepMs) {
    const sum = (key) => rows.reduce((total, row) => total + row[key], 0);
    const requests = sum("requests");
    const timed = sum("timed");
    const lastFull = rows.length > 1 ? rows[rows.length - 2] : rows[0];
    set("requests", fmt.int(requests));
    set("rate", `${fmt.num(lastFull.requests / (stepMs / 1000), 2)} req/s in the last full step`);
    set("p50", timed ? `${fmt.ms(sum("p50w") / timed)} p50` : "–");
    set("p95", timed ? `p95 ${fmt.ms(sum("p95w") / timed)}` : "p95 –");
    set("error-rate", requests ? fmt.pct(sum("errors") / requests) : "–");
    set("errors", `${fmt.int(sum("errors"))} errors of ${fmt.int(requests)}`);
  }

  function charts(rows, stepMs) {
    const times = rows.map((row) => row.t);
    const perSecond = rows.map((row) => row.requests / (stepMs / 1000));
    aigw.chart.draw(document.getElementById("chart-rate"), { times, series: [{ name: "req/s", values: perSecond }], format: (v) => fmt.num(v, 2) });
    aigw.chart.draw(document.getElementById("chart-latency"), {
      times,
      series: [
        { name: "p50", values: rows.map((row) => (row.timed ? row.p50w / row.timed : null)) },
        { name: "p95", values: rows.map((row) => (row.timed ? row.p95w / row.timed : null)) },
      ],
      format: (v) => fmt.num(v, 1),
    });
    aigw.chart.draw(document.getElementById("chart-errors"), { times, series: [{ name: "errors", values: rows.map((row) => (row.requests ? (100 * row.errors) / row.requests : null)) }], format: (v) => fmt.num(v, 1) });
    aigw.chart.draw(document.getElementById("chart-cost"), { times, bars: true, series: [{ name: "USD", values: rows.map((row) => row.cost) }], format: (v) => fmt.num(v, 4) });
  }

  function seriesTable(summary) {
    const rows = (summary.series || []).map((series) => {
      const total = (key) => series.points.reduce((sum, point) => sum + (point[key] || 0), 0);
      return { provider: series.provider, model: series.model, requests: total("requests"), errors: total("errors"), fallbacks: total("fallbacks"), cache: total("cache_hits"), cost: total("cost_usd"), tokens: total("prompt_tokens") + total("completion_tokens") };
    });
    document.getElementById("series-table").replaceChildren(table([
      { label: "Provider", value: (r) => r.provider || "(none)" },
      { label: "Model", value: (r) => r.model || "(none)" },
      { label: "Requests", value: (r) => fmt.int(r.requests), num: true },
      { label: "Errors", value: (r) => fmt.int(r.errors), num: true },
      { label: "Fallbacks", value: (r) => fmt.int(r.fallbacks), num: true },
      { label: "Cache hits", value: (r) => fmt.int(r.cache), num: true },
      { label: "Tokens", value: (r) => fmt.int(r.tokens), num: true },
      { label: "Cost", value: (r) => fmt.usd(r.cost), num: true },
    ], rows, "No traffic in this window"));
  }

  async function costToday() {
    const usage = await api("/admin/api/usage");
    const today = usage.today.global;
    set("cost-today", fmt.usd(today.spent_usd));
    const meter = document.getElementById("budget-meter");
    if (today.cap_usd) {
      set("budget", `${fmt.num(today.percent ?? 0, 1)} % of the ${fmt.usd(today.cap_usd)} daily budget`);
      meter.style.width = `${Math.min(today.percent ?? 0, 100)}%`;
      meter.className = `meter-fill${today.percent >= 100 ? " danger" : today.percent >= 80 ? " warn" : ""}`;
    } else {
      set("budget", "no daily budget set");
      meter.style.width = "0";
    }
  }

  function set(name, text) {
    document.querySelector(`[data-stat="${name}"]`).textContent = text;
  }

  async function load() {
    const option = select.selectedOptions[0];
    try {
      const summary = await api(`/admin/api/metrics/summary?window=${encodeURIComponent(option.value)}&step=${encodeURIComponent(option.dataset.step)}`);
      const { rows, stepMs } = totals(summary);
      figures(rows, stepMs);
      charts(rows.slice(0, -1), stepMs);  // the step still filling is counted, not drawn: it would look like a drop
      seriesTable(summary);
      await costToday();
      state("overview-state");
      document.getElementById("refreshed").textContent = `Updated ${new Date().toLocaleTimeString()}`;
      aigw.loaded();
    } catch (error) {
      state("overview-state", "error", `Could not load the figures: ${error.message}`);
    }
  }

  select.addEventListener("change", load);
  aigw.every(10000, load);
});
