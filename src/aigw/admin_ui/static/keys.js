/* Keys: the list (never a secret), create (the secret shown once), revoke with confirmation. */
"use strict";

aigw.page("keys", () => {
  const { api, el, fmt, table, state, badge, adminButton, confirmDialog, secretDialog, toast } = aigw;
  const dialog = document.getElementById("create-dialog");
  const form = document.getElementById("create-form");
  const errorBox = document.getElementById("create-error");
  const revokedBox = document.getElementById("include-revoked");

  function status(key) {
    if (key.revoked_at) return badge("revoked", "danger");
    if (key.expires_at && Date.parse(key.expires_at) <= Date.now()) return badge("expired", "warn");
    return badge("active", "ok");
  }

  function revokeButton(key) {
    if (key.revoked_at) return null;
    const button = adminButton("Revoke", {
      kind: "secondary",
      iconName: "trash",
      onclick: async () => {
        const confirmed = await confirmDialog({
          title: `Revoke key ${key.prefix}…?`,
          text: `Every replica refuses it within seconds. Callers using it get 401. This cannot be undone.`,
          confirmLabel: "Revoke key",
        });
        if (!confirmed) return;
        try {
          await api(`/admin/api/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
          toast(`Key ${key.prefix}… revoked`);
          load();
        } catch (error) {
          toast(`Not revoked: ${error.message}`, "error");
        }
      },
    });
    button.dataset.key = key.id;
    return button;
  }

  async function load() {
    try {
      const keys = await api(`/admin/api/keys?include_revoked=${revokedBox.checked}`);
      document.getElementById("keys").replaceChildren(table([
        { label: "Key", value: (k) => el("code", { text: `${k.prefix}…` }) },
        { label: "Name", value: (k) => k.name },
        { label: "User", value: (k) => k.user },
        { label: "Models", value: (k) => (k.models ? k.models.join(", ") : "every model") },
        { label: "RPM", value: (k) => (k.rpm ? fmt.int(k.rpm) : null), num: true },
        { label: "TPM", value: (k) => (k.tpm ? fmt.int(k.tpm) : null), num: true },
        { label: "Budget day / month", value: (k) => `${fmt.usd(k.budget_daily)} / ${fmt.usd(k.budget_monthly)}`, num: true },
        { label: "Created", value: (k) => `${fmt.time(k.created_at)}${k.created_by ? ` by ${k.created_by}` : ""}` },
        { label: "Expires", value: (k) => (k.expires_at ? fmt.time(k.expires_at) : "never") },
        { label: "Status", value: status },
        { label: "", value: revokeButton },
      ], keys.data, "No keys yet: create one to give a caller access"));
      state("keys-state");
      aigw.loaded();
    } catch (error) {
      state("keys-state", "error", `Could not load the keys: ${error.message}`);
    }
  }

  function spec() {
    const data = new FormData(form);
    const body = {};
    for (const name of ["name", "user"]) if (data.get(name)) body[name] = data.get(name);
    const models = String(data.get("models") || "").split(",").map((m) => m.trim()).filter(Boolean);
    if (models.length) body.models = models;
    for (const name of ["rpm", "tpm"]) if (data.get(name)) body[name] = Number.parseInt(data.get(name), 10);
    for (const name of ["budget_daily", "budget_monthly"]) if (data.get(name)) body[name] = data.get(name);
    if (data.get("expires_at")) body.expires_at = new Date(data.get("expires_at")).toISOString();
    return body;
  }

  document.getElementById("create-key").addEventListener("click", () => {
    if (!aigw.isAdmin) return;
    form.reset();
    errorBox.classList.add("hidden");
    dialog.showModal();
  });
  document.getElementById("create-cancel").addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = await api("/admin/api/keys", { method: "POST", body: spec() });
      dialog.close();
      secretDialog("Your new key", created.key, "Copy it now: this is the only time it is shown. The gateway keeps only its hash.");
      load();
    } catch (error) {
      errorBox.textContent = error.message;
      errorBox.classList.remove("hidden");
    }
  });
  revokedBox.addEventListener("change", load);
  load();
});
