/* Providers: breaker state, calls, error rate and latency of each; a health check run from here. */
"use strict";

aigw.page("providers", () => {
  const { api, el, fmt, badge, state, adminButton, emptyState } = aigw;
  const CIRCUIT = { closed: ["closed", "ok"], half_open: ["half-open", "warn"], open: ["open", "danger"] };
  const results = {};

  function figure(label, value) {
    return el("div", { class: "figure" }, el("div", { class: "label", text: label }), el("div", { class: "value", text: value }));
  }

  function card(provider) {
    const [label, kind] = CIRCUIT[provider.circuit.state] || [provider.circuit.state, "muted"];
    const result = el("div", { class: "check-result", "aria-live": "polite", "data-check-result": provider.name });
    if (results[provider.name]) showResult(result, results[provider.name]);
    const check = adminButton("Run health check", {
      iconName: "refresh",
      onclick: async () => {
        check.disabled = true;
        result.replaceChildren(el("span", { class: "muted", text: "Checking…" }));
        try {
          results[provider.name] = await api(`/admin/api/providers/${encodeURIComponent(provider.name)}/check`, { method: "POST" });
          showResult(result, results[provider.name]);
        } catch (error) {
          result.replaceChildren(badge("refused", "danger"), ` ${error.message}`);
        } finally {
          check.disabled = false;
        }
      },
    });
    check.dataset.provider = provider.name;
    const circuit = provider.circuit;
    return el("article", { class: "card", "data-provider": provider.name },
      el("div", { class: "provider-head" },
        el("div", {}, el("h2", { text: provider.name }), el("span", { class: "muted small", text: `${provider.type} · ${provider.available ? "available" : "unavailable"}` })),
        badge(`circuit ${label}`, kind)),
      el("div", { class: "provider-figures" },
        figure("Calls", fmt.int(provider.calls)),
        figure("Error rate", fmt.pct(provider.error_rate)),
        figure("p50 / p95", `${fmt.ms(provider.latency_ms?.p50)} / ${fmt.ms(provider.latency_ms?.p95)}`)),
      el("p", { class: "muted small", text: `Breaker window: ${circuit.window_calls} calls, ${circuit.window_failures} failed; opened ${circuit.times_opened} times${circuit.retry_after_s ? `; probes again in ${circuit.retry_after_s} s` : ""}. Figures from ${provider.source === "rollups" ? "every replica (last 5 minutes)" : "this process"}.` }),
      check, result);
  }

  function showResult(box, outcome) {
    box.replaceChildren(outcome.ok ? badge("answered", "ok") : badge("failed", "danger"),
      ` ${outcome.task} ${outcome.model} in ${fmt.ms(outcome.latency_ms)}${outcome.error ? ` — ${outcome.error}` : ""}`);
  }

  async function load() {
    try {
      const health = await api("/admin/api/providers/health");
      document.getElementById("kill-notice").classList.toggle("hidden", health.ai_enabled !== false);
      const list = document.getElementById("providers");
      list.replaceChildren(...(health.data.length ? health.data.map(card) : [emptyState("No provider is configured")]));
      state("providers-state");
      aigw.loaded();
      document.getElementById("refreshed").textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      state("providers-state", "error", `Could not load the providers: ${error.message}`);
    }
  }

  aigw.every(10000, load);
});
