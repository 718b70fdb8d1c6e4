// What every staff desk screen shares: the login card for one role, and the top bar with tabs.
import { post } from "/static/js/api.js";
import { h, mount } from "/static/js/dom.js";

export async function getJSON(path) {
  const response = await fetch(path, { credentials: "same-origin" });
  return response.json();
}

// texts: { title, appTitle, username, password, login, loginError, wrongRole }
export function showLogin({ app, bar, texts, role, message, onLogin }) {
  bar.hidden = true;
  const user = h("input", { id: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: "password", type: "password", autocomplete: "current-password", required: true });
  const error = h("p", { class: "error", role: "alert", id: "login-error" }, message || "");
  mount(app, h("form", { class: "card login", onsubmit: async (event) => {
    event.preventDefault();
    const result = await post("/api/auth/login", { username: user.value, password: pass.value });
    if (!result.ok) return (error.textContent = result.error?.message || texts.loginError);
    if (result.account.role !== role) return (error.textContent = texts.wrongRole);
    onLogin(result.account);
  } },
    h("h1", {}, texts.title), h("p", { class: "subtitle" }, texts.appTitle),
    h("label", { for: "username" }, texts.username), user,
    h("label", { for: "password" }, texts.password), pass,
    error, h("button", { type: "submit", class: "primary", id: "login" }, texts.login)));
  user.focus();
}

// tabs: { key: label }; onTab(key); onLogout()
export function renderBar({ bar, texts, account, tabs, current, onTab, onLogout }) {
  bar.hidden = false;
  mount(bar,
    h("div", { class: "brand" }, texts.title),
    h("nav", {}, Object.entries(tabs).map(([tab, label]) =>
      h("button", { type: "button", id: `tab-${tab}`, class: current === tab ? "on" : "", onclick: () => onTab(tab) }, label))),
    h("div", { class: "who" }, `${account.display_name}（${account.role_label}）`),
    h("button", { type: "button", class: "link", onclick: async () => { await post("/api/auth/logout", {}); onLogout(); } },
      texts.logout));
}
