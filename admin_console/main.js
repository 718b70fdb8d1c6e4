// The exam admin's screens: blueprints with their versions (view, draft from the bank, edit and keep as a
// new version), the simulation report, and the sittings: setting one up with its timing policy, its
// registration list, its papers (blueprint in use, assembling ahead).
import { post, session, upload } from "/static/js/api.js";
import { h, mount } from "/static/js/dom.js";
import * as staff from "/static/js/staff.js";
import { showArrangement } from "./arrangement.js";
import { showClosing } from "./closing.js";
import { zh } from "./i18n.js";

const app = document.getElementById("app");
const bar = document.getElementById("topbar");
const state = { account: null, tab: "blueprints", selected: null, editing: null };
const percent = (x) => `${(x * 100).toFixed(1)}%`;
const when = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "");

function showLogin(message) {
  staff.showLogin({ app, bar, texts: zh, role: "exam_admin", message,
    onLogin: (account) => { state.account = account; start(); } });
}

function go(changes) {
  Object.assign(state, changes);
  start();
}

async function start() {
  staff.renderBar({ bar, texts: zh, account: state.account, tabs: zh.tabs, current: state.tab,
    onTab: (tab) => go({ tab, editing: null }), onLogout: () => showLogin() });
  if (state.tab === "sittings") return showSittings();
  return showBlueprints();
}

function warningList(warnings) {
  if (!warnings?.length) return null;
  return h("div", { class: "warning warnings" }, h("strong", {}, zh.spareless),
    h("ul", {}, warnings.map((w) => h("li", {}, w))));
}

function problemList(message) {
  return h("div", { id: "problems" }, h("p", { class: "error" }, zh.problems),
    h("ul", { class: "problems" }, message.split("；").map((p) => h("li", {}, p))));
}

// ---- blueprints ----
async function showBlueprints() {
  const result = await staff.getJSON("/api/admin/blueprints");
  if (!result.ok) return showLogin(result.error.message);
  const byBank = new Map();
  for (const b of result.blueprints) {
    const key = `${b.occupation_code}|${b.level}`;
    if (!byBank.has(key)) byBank.set(key, []);
    byBank.get(key).push(b);
  }
  if (state.selected === null && result.blueprints.length) state.selected = result.blueprints[0].id;
  const list = h("div", { class: "card", id: "blueprint-list" },
    h("button", { type: "button", class: "primary", id: "new-blueprint", onclick: () => go({ editing: "new" }) }, zh.newBlueprint),
    byBank.size ? [...byBank.values()].map((versions) => h("div", { class: "bank-group" },
      h("h3", {}, `${versions[0].occupation_code} ${versions[0].level_name}`),
      h("ul", { class: "versions" }, versions.map((b) => h("li", {
        class: b.id === state.selected && !state.editing ? "selected" : "", dataset: { version: b.version },
        onclick: () => go({ selected: b.id, editing: null }) },
      h("strong", {}, zh.version(b.version)), ` · ${zh.items(b.size)}`,
      h("div", { class: "when" }, zh.by(b.created_by, when(b.created_at)))))))) : h("p", { class: "hint" }, zh.noBlueprints));
  const panel = h("div", { class: "card", id: "blueprint-panel" });
  mount(app, h("div", { class: "blueprints" }, list, panel));
  const chosen = result.blueprints.find((b) => b.id === state.selected);
  if (state.editing === "new") return showDraft(panel, result);
  if (state.editing) return showEditor(panel, state.editing, result);
  if (chosen) return showBlueprint(panel, chosen, result);
  panel.hidden = true;
}

function showBlueprint(panel, b, result) {
  const labels = Object.fromEntries(result.types);
  const simulation = h("div", { id: "simulation" });
  mount(panel,
    h("h2", {}, `${b.occupation_code} ${b.level_name} · ${zh.version(b.version)}`),
    h("p", { class: "hint" }, zh.by(b.created_by, when(b.created_at))),
    h("h3", {}, zh.sections),
    h("table", { class: "grid", id: "sections" },
      h("thead", {}, h("tr", {}, [zh.columns.type, zh.columns.count, zh.columns.points, zh.columns.subtotal].map((c) => h("th", {}, c)))),
      h("tbody", {}, b.data.sections.map((s) => h("tr", {}, h("td", {}, `${labels[s.type]}题`), h("td", { class: "n" }, s.count),
        h("td", { class: "n" }, s.points), h("td", { class: "n" }, s.count * s.points))))),
    h("h3", {}, zh.difficulty),
    h("p", { id: "difficulty" }, Object.entries(b.difficulty).map(([d, n]) => `难度${d}：${n} 题`).join("　")),
    h("h3", {}, zh.cells),
    h("table", { class: "grid", id: "cells" },
      h("thead", {}, h("tr", {}, [zh.columns.type, zh.columns.kp, zh.columns.difficulty, zh.columns.count].map((c) => h("th", {}, c)))),
      h("tbody", {}, b.data.cells.map((c) => h("tr", {}, h("td", {}, labels[c.type]), h("td", {}, c.knowledge_point),
        h("td", { class: "n" }, c.difficulty), h("td", { class: "n" }, c.count))))),
    h("div", { class: "row-actions" },
      h("button", { type: "button", class: "secondary", id: "edit-blueprint", onclick: () => go({ editing: b.id }) }, zh.editAsNew)),
    h("h3", {}, zh.simulate),
    simulationForm(b, simulation),
    simulation);
}

function simulationForm(b, out) {
  const field = (name, label, value, attrs = {}) =>
    h("label", {}, label, h("input", { name, id: `sim-${name}`, type: "number", value, ...attrs }));
  const form = h("form", { class: "row-actions", id: "simulate-form", onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    mount(out, h("p", { class: "hint" }, zh.sim.running));
    const reply = await post(`/api/admin/blueprints/${b.id}/simulate`, {
      papers: Number(data.get("papers")), rows: Number(data.get("rows")), cols: Number(data.get("cols")),
      tolerance: Number(data.get("tolerance")) });
    if (!reply.ok) return mount(out, problemList(reply.error.message));
    mount(out, simulationReport(reply.report));
  } },
  field("papers", zh.sim.papers, 1000, { min: 1, max: 20000 }), field("rows", zh.sim.rows, 5, { min: 1, max: 20 }),
  field("cols", zh.sim.cols, 6, { min: 1, max: 20 }), field("tolerance", zh.sim.tolerance, 0.1, { min: 0.01, max: 5, step: 0.01 }),
  h("button", { type: "submit", class: "primary", id: "run-simulation" }, zh.sim.run));
  return form;
}

function simulationReport(r) {
  const top = r.most_exposed.map((e) => `${e.code} ${percent(e.share)}`).join("、");
  const row = (label, value, id) => [h("dt", {}, label), h("dd", { id }, value)];
  return h("div", { class: "card", id: "simulation-report" },
    h("h3", {}, zh.report.title(r.papers, r.blueprint_version)),
    h("dl", { class: "report" },
      row(zh.report.pool, `${r.pool_size} 道`, "report-pool"),
      row(zh.report.coverage, percent(r.coverage), "report-coverage"),
      row(zh.report.exposure, zh.report.exposureText(percent(r.exposure_mean), percent(r.exposure_max), top), "report-exposure"),
      row(zh.report.difficulty, zh.report.difficultyText(r.difficulty_mean.toFixed(2), r.difficulty_spread.toFixed(3)), "report-difficulty"),
      row(zh.report.overlap, zh.report.overlapText(percent(r.overlap_mean), percent(r.overlap_worst)), "report-overlap"),
      row(zh.report.parallel, h("span", { class: `verdict ${r.parallel ? "yes" : "no"}` },
        r.parallel ? zh.report.yes(r.tolerance) : zh.report.no(r.tolerance)), "report-parallel")));
}

function showDraft(panel, result) {
  const out = h("div", { id: "draft-problems" });
  const count = (type, value) => h("input", { type: "number", class: "num", name: `count-${type}`, id: `draft-count-${type}`, value, min: 0 });
  const points = (type, value) => h("input", { type: "number", class: "num", name: `points-${type}`, id: `draft-points-${type}`, value, min: 0, step: 0.5 });
  const defaults = { single: [60, 1], multiple: [20, 1], true_false: [20, 1] };
  const form = h("form", { id: "draft-form", onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const [occupation, level] = String(data.get("bank")).split("|");
    const sections = result.types.map(([type]) => ({ type, count: Number(data.get(`count-${type}`)), points: Number(data.get(`points-${type}`)) }))
      .filter((s) => s.count > 0);
    const reply = await post("/api/admin/blueprints/suggest", { occupation_code: occupation, level: Number(level), sections });
    if (!reply.ok) return mount(out, problemList(reply.error.message));
    state.editing = { draft: reply.blueprint };
    showEditor(panel, state.editing, result);
  } },
  h("h2", {}, zh.draftTitle),
  h("p", { class: "hint" }, zh.draftHint),
  h("p", {}, h("label", {}, `${zh.bank}：`, h("select", { name: "bank", id: "draft-bank" },
    result.banks.map((b) => h("option", { value: `${b.occupation_code}|${b.level}` }, `${b.occupation_code} ${b.level_name}`))))),
  h("table", { class: "grid" },
    h("thead", {}, h("tr", {}, [zh.columns.type, zh.columns.count, zh.columns.points].map((c) => h("th", {}, c)))),
    h("tbody", {}, result.types.map(([type, label]) => h("tr", {}, h("td", {}, `${label}题`),
      h("td", {}, count(type, defaults[type]?.[0] ?? 0)), h("td", {}, points(type, defaults[type]?.[1] ?? 1)))))),
  h("div", { class: "row-actions" },
    h("button", { type: "submit", class: "primary", id: "make-draft" }, zh.makeDraft),
    h("button", { type: "button", class: "secondary", onclick: () => go({ editing: null }) }, zh.cancel)),
  out);
  mount(panel, form);
}

// The blueprint as an editable table: sections (count, points) and cells; totals are shown as they change.
function showEditor(panel, editing, result) {
  const source = editing.draft || result.blueprints.find((b) => b.id === editing)?.data;
  const plan = structuredClone(source);
  const labels = Object.fromEntries(result.types);
  const message = h("div", { id: "editor-message" });
  const totals = h("p", { class: "totals", id: "editor-totals" });
  const sectionRows = h("tbody", {});
  const cellRows = h("tbody", {});
  const refresh = () => {
    const total = plan.sections.reduce((sum, s) => sum + s.count * s.points, 0);
    const parts = plan.sections.map((s) => {
      const planned = plan.cells.filter((c) => c.type === s.type).reduce((sum, c) => sum + c.count, 0);
      return { ok: planned === s.count, text: `${labels[s.type]}题 ${zh.planned(planned, s.count)}` };
    });
    const good = Math.abs(total - 100) < 1e-9 && parts.every((p) => p.ok);
    totals.className = good ? "totals" : "totals bad";
    mount(totals, zh.total(Number(total.toFixed(2))), "；", parts.map((p) => p.text).join("；"));
  };
  const numberInput = (object, key, attrs = {}) => h("input", { type: "number", class: "num", value: object[key], ...attrs,
    oninput: (event) => { object[key] = Number(event.target.value); refresh(); } });
  const drawSections = () => mount(sectionRows, plan.sections.map((s) => h("tr", {},
    h("td", {}, `${labels[s.type]}题`), h("td", {}, numberInput(s, "count", { min: 1 })),
    h("td", {}, numberInput(s, "points", { min: 0.5, step: 0.5 })))));
  const drawCells = () => mount(cellRows, plan.cells.map((c, index) => h("tr", { class: "cell-row" },
    h("td", {}, h("select", { onchange: (event) => { c.type = event.target.value; refresh(); } },
      plan.sections.map((s) => h("option", { value: s.type, selected: s.type === c.type }, labels[s.type])))),
    h("td", {}, h("input", { value: c.knowledge_point, size: 12, class: "kp",
      oninput: (event) => { c.knowledge_point = event.target.value.trim(); } })),
    h("td", {}, h("select", { onchange: (event) => { c.difficulty = Number(event.target.value); } },
      [1, 2, 3, 4, 5].map((d) => h("option", { value: d, selected: d === c.difficulty }, d)))),
    h("td", {}, numberInput(c, "count", { min: 1 })),
    h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => {
      plan.cells.splice(index, 1); drawCells(); refresh(); } }, zh.removeCell)))));
  const send = async (path) => {
    const body = { ...plan, sections: plan.sections, cells: plan.cells };
    const reply = await post(path, body);
    if (reply.ok) return reply;
    mount(message, problemList(reply.error.message));
    return null;
  };
  mount(panel,
    h("h2", {}, `${plan.occupation_code} · ${editing.draft ? zh.draftTitle : zh.editAsNew}`),
    h("h3", {}, zh.sections),
    h("table", { class: "grid", id: "edit-sections" },
      h("thead", {}, h("tr", {}, [zh.columns.type, zh.columns.count, zh.columns.points].map((c) => h("th", {}, c)))), sectionRows),
    h("h3", {}, zh.cells),
    h("table", { class: "grid", id: "edit-cells" },
      h("thead", {}, h("tr", {}, [zh.columns.type, zh.columns.kp, zh.columns.difficulty, zh.columns.count, ""].map((c) => h("th", {}, c)))),
      cellRows),
    h("div", { class: "row-actions" },
      h("button", { type: "button", class: "secondary", id: "add-cell", onclick: () => {
        plan.cells.push({ type: plan.sections[0].type, knowledge_point: "", difficulty: 2, count: 1 }); drawCells(); refresh(); } },
      zh.addCell)),
    totals,
    h("div", { class: "row-actions" },
      h("button", { type: "button", class: "secondary", id: "check-blueprint", onclick: async () => {
        const reply = await send("/api/admin/blueprints/check");
        if (reply) mount(message, h("p", { class: "ok", id: "check-ok" }, zh.checkOk), warningList(reply.warnings));
      } }, zh.check),
      h("button", { type: "button", class: "primary", id: "save-blueprint", onclick: async () => {
        const reply = await send("/api/admin/blueprints");
        if (reply) go({ selected: reply.blueprint.id, editing: null });
      } }, zh.save),
      h("button", { type: "button", class: "secondary", onclick: () => go({ editing: null }) }, zh.cancel)),
    message);
  drawSections();
  drawCells();
  refresh();
}

// ---- sittings and their papers ----
async function showSittings() {
  if (state.editing?.arrange) return showArrangement(app, state.editing.arrange, () => go({ editing: null }));
  if (state.editing?.closing) return showClosing(app, state.editing.closing, () => go({ editing: null }));
  const result = await staff.getJSON("/api/admin/sittings");
  if (!result.ok) return showLogin(result.error.message);
  const warning = result.bank_open ? null : h("p", { class: "warning", id: "bank-closed" }, zh.bankClosed);
  const creating = state.editing === "new-sitting";
  const top = creating ? h("div", { class: "card", id: "new-sitting" })
    : h("div", { class: "row-actions" }, h("button", { type: "button", class: "primary", id: "open-new-sitting",
      onclick: () => go({ editing: "new-sitting" }) }, zh.newSitting.open));
  mount(app, warning, top, result.sittings.map((s) => sittingCard(s)));
  if (creating) showNewSitting(top);
}

// A new sitting: the bank it draws from, when, how long, and the timing policy with the regulations' defaults.
async function showNewSitting(panel) {
  const z = zh.newSitting;
  const [banks, rules] = await Promise.all([staff.getJSON("/api/admin/blueprints"), staff.getJSON("/api/admin/sittings/policy")]);
  if (!banks.ok || !rules.ok) return mount(panel, h("p", { class: "error" }, (banks.error || rules.error).message));
  if (!banks.banks.length) return mount(panel, h("p", { class: "warning" }, z.noBank));
  const message = h("div", { id: "new-sitting-message", role: "alert" });
  const field = (label, control) => h("label", { class: "field" }, h("span", {}, label), control);
  const minutes = rules.policy.filter((r) => typeof r.default === "number");
  const flag = rules.policy.find((r) => typeof r.default === "boolean");
  const form = h("form", { id: "new-sitting-form", onsubmit: async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const [occupation, level] = String(data.get("bank")).split("|");
    const policy = Object.fromEntries(minutes.map((r) => [r.name, Math.round(Number(data.get(r.name)) * 60)]));
    policy[flag.name] = data.get(flag.name) === "on";
    const reply = await post("/api/admin/sittings", { name: data.get("name"), occupation_code: occupation,
      occupation_name: data.get("occupation_name"), level: Number(level), start: data.get("start"),
      duration_minutes: Number(data.get("duration")), policy });
    if (!reply.ok) return mount(message, h("p", { class: "error" }, reply.error.message));
    go({ editing: null });
  } },
  h("h2", {}, z.title),
  h("div", { class: "form-grid" },
    field(z.name, h("input", { name: "name", id: "sitting-name", required: true, placeholder: z.namePlaceholder, size: 48 })),
    field(z.bank, h("select", { name: "bank", id: "sitting-bank" }, banks.banks.map((b) =>
      h("option", { value: `${b.occupation_code}|${b.level}` }, `${b.occupation_code} ${b.level_name}`)))),
    field(z.occupationName, h("input", { name: "occupation_name", id: "sitting-occupation-name", required: true })),
    field(z.start, h("input", { type: "datetime-local", name: "start", id: "sitting-start", required: true })),
    field(z.duration, h("input", { type: "number", name: "duration", id: "sitting-duration", value: 90, min: 15, max: 300, required: true }))),
  h("h3", {}, z.policy),
  h("div", { class: "form-grid policy" }, minutes.map((r) => field(r.words, h("input", { type: "number", name: r.name,
    id: `policy-${r.name}`, value: r.default / 60, min: r.low / 60, max: r.high / 60, required: true })))),
  h("p", {}, h("label", {}, h("input", { type: "checkbox", name: flag.name, id: `policy-${flag.name}` }), " ", z.showScore)),
  h("div", { class: "row-actions" },
    h("button", { type: "submit", class: "primary", id: "create-sitting" }, z.create),
    h("button", { type: "button", class: "secondary", onclick: () => go({ editing: null }) }, zh.cancel)),
  message);
  mount(panel, form);
}

// The sitting's registration list: how many are registered; a file checked, or imported whole.
function registrationPanel(s) {
  const z = zh.registration;
  const result = h("div", { class: "registration-result", role: "status" });
  const file = h("input", { type: "file", name: "file", class: "registration-file", accept: ".xlsx,.csv" });
  const send = async (dryRun) => {
    if (!file.files.length) return mount(result, h("p", { class: "error" }, z.choose));
    const data = new FormData();
    data.set("file", file.files[0]);
    data.set("dry_run", dryRun ? "1" : "0");
    const reply = await upload(`/api/admin/sittings/${s.id}/registrations`, data);
    if (reply.error) return mount(result, h("p", { class: "error" }, reply.error.message));
    if (!reply.ok) {
      return mount(result, h("p", { class: "error" }, z.problems(reply.problems.length)),
        h("ul", { class: "problems registration-problems" }, reply.problems.map((p) => h("li", {}, p))));
    }
    if (reply.dry_run) return mount(result, h("p", { class: "ok" }, z.checked(reply.checked)));
    start().then(() => {
      const card = document.querySelector(`.sitting[data-sitting="${s.id}"] .registration-result`);
      if (card) mount(card, h("p", { class: "ok" }, z.imported(reply.imported)));
    });
  };
  return h("div", { class: "registration" },
    h("h3", {}, z.title, " ", h("span", { class: "registered" }, z.count(s.registered))),
    h("p", { class: "hint" }, z.hint, " ", h("a", { href: "/api/admin/registrations/template", class: "template" }, z.template)),
    h("div", { class: "row-actions" }, file,
      h("button", { type: "button", class: "secondary check-registrations", onclick: () => send(true) }, z.check),
      h("button", { type: "button", class: "primary import-registrations", onclick: () => send(false) }, z.import)),
    result);
}

function sittingCard(s) {
  const z = zh.sitting;
  const message = h("div", { class: "sitting-message" });
  const report = s.report;
  const locked = s.holding > 0;
  const backups = h("input", { type: "number", min: 0, max: 500, name: "backups", class: "backups",
    value: report ? report.backups : "", placeholder: "自动" });
  const act = async (path, body) => {
    const reply = await post(path, body);
    if (!reply.ok) return mount(message, h("p", { class: "error", role: "alert" }, reply.error.message));
    start();
  };
  const choices = s.versions.filter((v) => v.id !== s.blueprint?.id);
  const version = h("select", { class: "version-choice", id: `version-${s.id}` },
    choices.map((v) => h("option", { value: v.id }, zh.version(v.version))));
  const byRoom = new Map((report?.rooms || []).map((r) => [r.room_id, r]));
  return h("div", { class: "card sitting", dataset: { sitting: s.id } },
    h("h2", {}, s.name),
    h("div", { class: "meta" }, `${s.occupation_code} ${s.occupation_name} ${s.level_name} · ${z.starts(when(s.scheduled_start))} · `,
      s.blueprint ? z.blueprint(s.blueprint.version) : z.noBlueprint),
    choices.length && !locked ? h("div", { class: "row-actions" }, version,
      h("button", { type: "button", class: "secondary", id: `use-blueprint-${s.id}`,
        onclick: () => act(`/api/admin/sittings/${s.id}/blueprint`, { blueprint_id: Number(version.value) }) },
      z.useVersion)) : null,
    h("ul", { class: "policy-lines" }, s.described.slice(3).map((line) => h("li", {}, line))),
    registrationPanel(s),
    h("div", { class: "row-actions" }, h("span", { class: "hint" }, zh.arrange.rooms(s.rooms.length, s.rooms.reduce((n, r) => n + r.seats, 0))),
      h("button", { type: "button", class: "primary open-arrangement", onclick: () => go({ editing: { arrange: s.id } }) },
        zh.arrange.open),
      h("button", { type: "button", class: "secondary open-closing", onclick: () => go({ editing: { closing: s } }) },
        zh.closing.open)),
    report ? h("p", { class: "ok prepared" }, z.prepared(when(report.prepared_at), report.by, report.papers, report.backups))
      : h("p", { class: "warning not-prepared" }, z.notPrepared),
    report ? h("p", { class: "hint" }, z.bankVersion(report.bank_version, report.pool_size)) : null,
    report ? warningList(report.warnings) : null,
    h("table", { class: "grid rooms" },
      h("thead", {}, h("tr", {}, [z.rooms, z.seats, z.pairs, z.overlapMean, z.overlapWorst].map((c, i) =>
        h("th", { class: i ? "n" : "" }, c)))),
      h("tbody", {}, s.rooms.map((room) => {
        const r = byRoom.get(room.id);
        return h("tr", {}, h("td", {}, room.name), h("td", { class: "n" }, room.seats),
          h("td", { class: "n" }, r ? r.neighbour_pairs : "—"), h("td", { class: "n overlap-mean" }, r ? percent(r.overlap_mean) : "—"),
          h("td", { class: "n overlap-worst" }, r ? percent(r.overlap_worst) : "—"));
      }))),
    h("p", { class: "hint backup-state" }, z.backupState(s.backups, s.replaced)),
    locked ? h("p", { class: "hint" }, z.holding(s.holding)) : h("div", { class: "row-actions" },
      h("label", {}, `${z.backups}：`, backups),
      h("button", { type: "button", class: "primary prepare", onclick: () => act(`/api/admin/sittings/${s.id}/prepare`,
        backups.value === "" ? {} : { backups: Number(backups.value) }) }, report ? z.prepareAgain : z.prepare)),
    message);
}

// ---- start ----
const me = await session();
if (me.account && me.account.role === "exam_admin") {
  state.account = me.account;
  start();
} else {
  showLogin(me.account ? zh.wrongRole : "");
}
