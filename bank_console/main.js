// The bank admin's screens: browse and search items, preview as the candidate sees them, review,
// edit (a new version), import files with every problem shown, and the coverage table.
import { post, session, upload } from "/static/js/api.js";
import { h, mount } from "/static/js/dom.js";
import * as staff from "/static/js/staff.js";
import { zh } from "./i18n.js";

const app = document.getElementById("app");
const bar = document.getElementById("topbar");
const state = { account: null, tab: "items", filters: {}, selected: null, banks: [] };
const getJSON = staff.getJSON;

function showLogin(message) {
  staff.showLogin({ app, bar, texts: { ...zh, wrongRole: zh.notBankAdmin }, role: "bank_admin", message,
    onLogin: (account) => { state.account = account; start(); } });
}

function renderBar() {
  staff.renderBar({ bar, texts: zh, account: state.account, tabs: zh.tabs, current: state.tab,
    onTab: (tab) => { state.tab = tab; start(); }, onLogout: () => showLogin() });
}

async function start() {
  renderBar();
  const status = await getJSON("/api/bank/status");
  if (!status.ok) return showLogin(status.error.message);
  const warning = status.open ? null : h("p", { class: "warning", id: "bank-closed" }, zh.bankClosed);
  const body = h("div", {});
  mount(app, warning, body);
  if (state.tab === "items") return showItems(body);
  if (state.tab === "import") return showImport(body);
  return showCoverage(body);
}

// ---- items ----
function select(name, label, options, value) {
  return h("label", {}, label, h("select", { name, id: `filter-${name}` },
    h("option", { value: "" }, zh.filters.all),
    options.map(([v, text]) => h("option", { value: v, selected: String(value ?? "") === String(v) }, text))));
}

async function showItems(body) {
  const f = state.filters;
  const query = new URLSearchParams(Object.entries(f).filter(([, v]) => v)).toString();
  const result = await getJSON(`/api/bank/items?${query}`);
  if (!result.ok) return mount(body, h("p", { class: "error" }, result.error.message));
  state.banks = result.banks;
  const form = h("form", { class: "card filters", onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const [occupation, level] = (data.get("bank") || "|").split("|");
    state.filters = { occupation, level, type: data.get("type"), status: data.get("status"),
      difficulty: data.get("difficulty"), knowledge_point: data.get("knowledge_point"), q: data.get("q") };
    start();
  } },
    select("bank", zh.filters.bank, state.banks.map((b) => [`${b.occupation}|${b.level}`, `${b.occupation} ${b.level_name}`]),
      f.occupation ? `${f.occupation}|${f.level}` : ""),
    select("type", zh.filters.type, [["single", "单选"], ["multiple", "多选"], ["true_false", "判断"]], f.type),
    select("status", zh.filters.status, Object.entries(zh.statuses), f.status),
    select("difficulty", zh.filters.difficulty, [1, 2, 3, 4, 5].map((d) => [d, d]), f.difficulty),
    h("label", {}, zh.filters.kp, h("input", { name: "knowledge_point", id: "filter-kp", value: f.knowledge_point || "", size: 10 })),
    h("label", {}, zh.filters.q, h("input", { name: "q", id: "filter-q", value: f.q || "", size: 18 })),
    h("button", { type: "submit", class: "primary", id: "apply-filters" }, zh.filters.apply));
  const rows = result.items.map((item) => h("tr", { dataset: { id: item.id, code: item.code },
    class: state.selected === item.id ? "selected" : "", onclick: () => { state.selected = item.id; start(); } },
    h("td", {}, item.code), h("td", {}, item.type_label), h("td", {}, item.knowledge_point), h("td", {}, String(item.difficulty)),
    h("td", {}, h("span", { class: `badge ${item.status}` }, item.status_label), item.leaked ? h("span", { class: "badge leaked" }, zh.leaked) : null),
    h("td", {}, `v${item.version}`), h("td", { class: "stem", title: item.stem }, item.stem)));
  const list = h("div", { class: "card" },
    h("p", { class: "hint", id: "item-count" }, zh.count(result.items.length, result.total)),
    result.tampered.length ? h("p", { class: "error" }, zh.tampered(result.tampered.join("、"))) : null,
    h("table", { class: "items", id: "item-table" },
      h("thead", {}, h("tr", {}, Object.values(zh.columns).map((c) => h("th", {}, c)))), h("tbody", {}, rows)));
  const detail = h("div", { class: "card detail", id: "item-detail" });
  mount(body, form, h("div", { class: "split" }, list, detail));
  if (state.selected) showDetail(detail, state.selected);
  else detail.hidden = true;
}

async function showDetail(panel, id) {
  const result = await getJSON(`/api/bank/items/${id}`);
  if (!result.ok) return mount(panel, h("p", { class: "error" }, result.error.message));
  const item = result.item;
  const key = new Set(Array.isArray(item.key) ? item.key : []);
  const answer = item.type === "true_false" ? (item.key ? "对" : "错") : [...key].join("");
  const message = h("p", { class: "error", role: "alert", id: "detail-error" });
  const act = async (action, label) => {
    let reason = "";
    if (action === "leak" || action === "retire") {
      reason = window.prompt(zh.reasonPrompt(label)) || "";
      if (!reason) return;
    }
    const reply = await post(`/api/bank/items/${id}/${action}`, { reason });
    if (!reply.ok) return (message.textContent = reply.error.message);
    start();
  };
  mount(panel,
    h("h2", {}, `${item.code} · ${item.type_label}题`),
    h("div", { class: "meta" }, `${item.occupation_code} ${item.level_name} · 鉴定点 ${item.knowledge_point} · 难度 ${item.difficulty} · 第${item.version}版 · `,
      h("span", { class: `badge ${item.status}`, id: "detail-status" }, item.status_label),
      item.leaked ? h("span", { class: "badge leaked" }, zh.leaked) : null),
    h("p", { class: "stem", id: "detail-stem" }, item.stem),
    item.options ? h("ul", { class: "options" }, item.options.map((o) =>
      h("li", { class: key.has(o.id) ? "correct" : "" }, `${o.id}. ${o.text}${key.has(o.id) ? " ✓" : ""}`))) : null,
    h("p", {}, h("strong", {}, `${zh.detail.key}：`), h("span", { id: "detail-key" }, answer)),
    item.explanation ? h("p", { class: "hint" }, `${zh.detail.explanation}：${item.explanation}`) : null,
    message,
    h("div", { class: "actions" },
      ["review", "activate", "retire", "leak"].map((action) =>
        h("button", { type: "button", id: `do-${action}`, class: action === "leak" ? "danger" : "secondary",
          onclick: () => act(action, zh.actions[action]) }, zh.actions[action])),
      h("button", { type: "button", class: "primary", id: "do-edit", onclick: () => showEdit(panel, item) }, zh.actions.edit)),
    h("h3", {}, zh.detail.preview),
    h("iframe", { src: `/exam/preview.html?item=${id}`, id: "preview", title: zh.detail.preview }),
    h("h3", {}, zh.detail.history),
    h("div", { id: "history" }));
  const history = await getJSON(`/api/bank/items/${id}/history`);
  const box = document.getElementById("history");
  if (!history.ok || !history.changes.length) return box && (box.textContent = zh.detail.noHistory);
  mount(box, history.changes.map((c) => h("div", {},
    h("p", { class: "hint" }, `第${c.from}版 → 第${c.to}版 · ${new Date(c.at).toLocaleString("zh-CN")} · ${c.by} · ${c.reason}`),
    h("div", { class: "diff" }, c.diff.filter((l) => !l.startsWith("@@")).map((l) =>
      h("div", { class: l.startsWith("-") ? "del" : "add" }, l))))));
}

function showEdit(panel, item) {
  const field = (name, label, value, tag = "input") =>
    h("label", {}, label, h(tag, { name, id: `edit-${name}`, value: tag === "input" ? value : undefined, rows: 3 }, tag === "textarea" ? value : null));
  const answer = item.type === "true_false" ? (item.key ? "对" : "错") : (item.key || []).join("");
  const message = h("p", { class: "error", role: "alert", id: "edit-error" });
  const form = h("form", { class: "edit-form", onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = { stem: data.get("stem"), explanation: data.get("explanation"), reason: data.get("reason"),
      knowledge_point: data.get("knowledge_point"), difficulty: Number(data.get("difficulty")) };
    if (item.options) {
      body.options = item.options.map((o) => ({ ...o, text: data.get(`option-${o.id}`) }));
      body.key = String(data.get("answer")).toUpperCase().replace(/[^A-H]/g, "").split("");
    } else {
      body.key = ["对", "正确", "√"].includes(String(data.get("answer")).trim());
    }
    const reply = await post(`/api/bank/items/${item.id}/edit`, body);
    if (!reply.ok) return (message.textContent = reply.error.message);
    start();
  } },
    h("p", { class: "hint" }, zh.editHint),
    field("stem", zh.editFields.stem, item.stem, "textarea"),
    (item.options || []).map((o) => field(`option-${o.id}`, `选项${o.id}`, o.text)),
    field("answer", zh.editFields.answer, answer),
    field("explanation", zh.editFields.explanation, item.explanation || "", "textarea"),
    field("difficulty", zh.editFields.difficulty, String(item.difficulty)),
    field("knowledge_point", zh.editFields.kp, item.knowledge_point),
    field("reason", zh.editFields.reason, ""),
    message,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "primary", id: "save-edit" }, zh.actions.save),
      h("button", { type: "button", class: "secondary", onclick: () => start() }, zh.actions.cancel)));
  mount(panel, h("h2", {}, `${item.code} · ${zh.actions.edit}`), form);
}

// ---- import ----
function showImport(body) {
  const result = h("div", { id: "import-result" });
  const form = h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    data.set("dry_run", form.querySelector("#dry-run").checked ? "1" : "0");
    data.set("activate", form.querySelector("#activate").checked ? "1" : "0");
    const reply = await upload("/api/bank/import", data);
    if (reply.error) return mount(result, h("p", { class: "error" }, reply.error.message));
    if (!reply.ok) {
      return mount(result, h("p", { class: "error" }, zh.importProblems(reply.problems.length)),
        h("ul", { class: "problems", id: "import-problems" }, reply.problems.map((p) => h("li", {}, p))));
    }
    mount(result, h("p", { class: "ok", id: "import-ok" }, reply.dry_run ? zh.importChecked(reply.checked) : zh.importOk(reply.imported)));
  } },
    h("h2", {}, zh.importTitle),
    h("p", { class: "hint" }, zh.importHint),
    h("p", {}, h("input", { type: "file", name: "file", id: "import-file", accept: ".xlsx,.csv,.json", required: true })),
    h("p", {}, h("label", {}, h("input", { type: "checkbox", id: "dry-run" }), " ", zh.dryRun)),
    h("p", {}, h("label", {}, h("input", { type: "checkbox", id: "activate" }), " ", zh.activateImport)),
    h("button", { type: "submit", class: "primary", id: "import-submit" }, zh.importButton),
    result);
  mount(body, form);
}

// ---- coverage ----
async function showCoverage(body) {
  const f = state.filters;
  const query = new URLSearchParams({ occupation: f.occupation || "", level: f.level || "" }).toString();
  const result = await getJSON(`/api/bank/coverage?${query}`);
  if (!result.ok) return mount(body, h("p", { class: "error" }, result.error.message));
  const types = result.types; // an ordered list of [type, label]
  const head = h("thead", {},
    h("tr", {}, h("th", { rowspan: 2 }, zh.columns.kp), types.map(([, label]) =>
      h("th", { class: "group", colspan: result.difficulties.length }, `${label}题`)), h("th", { rowspan: 2 }, zh.total)),
    h("tr", {}, types.map(() => result.difficulties.map((d) => h("th", {}, `难度${d}`)))));
  const rows = result.rows.map((row) => h("tr", {}, h("td", {}, row.knowledge_point),
    types.map(([t]) => result.difficulties.map((d) => {
      const n = row.cells[t][String(d)];
      return h("td", { class: n ? "n" : "n zero" }, String(n));
    })),
    h("td", { class: "n" }, String(row.total))));
  const short = result.required - result.total;
  mount(body, h("div", { class: "card" },
    h("h2", {}, zh.coverageTitle),
    h("p", { id: "coverage-total", class: result.meets_rule ? "" : "error" },
      zh.coverageTotal(result.total, result.required), " ", result.meets_rule ? zh.coverageMet : zh.coverageShort(short)),
    h("table", { class: "coverage", id: "coverage-table" }, head, h("tbody", {}, rows))));
}

// ---- start ----
const me = await session();
if (me.account && me.account.role === "bank_admin") {
  state.account = me.account;
  start();
} else {
  showLogin(me.account ? zh.notBankAdmin : "");
}
