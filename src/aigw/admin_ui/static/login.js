/* The sign-in page: posts the form as JSON (the gateway accepts no other body) and follows the answer. */
"use strict";

(() => {
  const form = document.getElementById("login-form");
  const name = document.getElementById("name");
  const nameField = document.getElementById("name-field");
  const password = document.getElementById("password");
  const secretLabel = document.getElementById("secret-label");
  const error = document.getElementById("login-error");
  const submit = document.getElementById("login-submit");
  const tabs = { user: document.getElementById("tab-user"), key: document.getElementById("tab-key") };
  let mode = "user";

  const loopback = /^(localhost|.*\.localhost|127(\.\d{1,3}){3}|\[::1\])$/.test(location.hostname);
  if (location.protocol === "http:" && !loopback) document.getElementById("insecure-warning").hidden = false;

  function choose(next) {
    mode = next;
    for (const [key, tab] of Object.entries(tabs)) {
      tab.classList.toggle("active", key === mode);
      tab.setAttribute("aria-selected", String(key === mode));
    }
    nameField.hidden = mode === "key";
    name.required = mode === "user";
    secretLabel.textContent = mode === "key" ? "Master key" : "Password";
    password.autocomplete = mode === "key" ? "off" : "current-password";
    error.hidden = true;
    (mode === "key" ? password : name).focus();
  }
  tabs.user.addEventListener("click", () => choose("user"));
  tabs.key.addEventListener("click", () => choose("key"));

  function fail(message) {
    error.textContent = message;
    error.hidden = false;
    submit.disabled = false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!password.value || (mode === "user" && !name.value.trim())) {
      fail(mode === "user" ? "Enter your name and password." : "Enter the master key.");
      return;
    }
    submit.disabled = true;
    error.hidden = true;
    const next = form.dataset.next || "/admin";
    const body = { name: mode === "user" ? name.value.trim() : null, password: password.value };
    let response;
    try {
      response = await fetch("/admin/login?next=" + encodeURIComponent(next), {
        method: "POST", credentials: "same-origin",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
      });
    } catch {
      fail("The gateway did not answer. Try again.");
      return;
    }
    let data = null;
    try { data = await response.json(); } catch { data = null; }
    if (response.ok && data) {
      password.value = "";
      location.assign(data.redirect || "/admin");
      return;
    }
    const message = data && data.error ? data.error.message : `Sign-in failed (HTTP ${response.status}).`;
    fail(response.status === 429 ? "Too many failed attempts from this address: wait a minute." : message);
  });

  const SSO_ERRORS = {
    sso_failed: "Single sign-on failed: try again, or sign in another way.",
    sso_no_role: "Your account has no role on this gateway: ask an admin to map one of your groups.",
    sso_expired: "The single sign-on took too long or was started in another browser: try again.",
  };
  const fromSso = SSO_ERRORS[new URLSearchParams(location.search).get("error")];
  if (fromSso) fail(fromSso);
})();
