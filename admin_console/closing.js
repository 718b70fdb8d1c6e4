// A sitting's closing (结束与成绩): each room closed once its time is over, the results to download, the
// publication (recorded with who and when), and the signed archive.
import { post } from "/static/js/api.js";
import { h, mount } from "/static/js/dom.js";
import * as staff from "/static/js/staff.js";
import { zh } from "./i18n.js";

const z = zh.closing;
const when = (iso) => (iso ? new Date(iso).toLocaleString("zh-CN", { hour12: false }) : "");

export async function showClosing(app, sitting, back) {
  const base = `/api/admin/sittings/${sitting.id}`;

  async function load(notice) {
    const reply = await staff.getJSON(`${base}/closing`);
    if (!reply.ok) return mount(app, h("p", { class: "error" }, reply.error.message));
    draw(reply.closing, notice);
  }

  async function act(path, after) {
    const reply = await post(`${base}/${path}`, {});
    if (!reply.ok) {
      const box = document.getElementById("closing-message");
      return box && mount(box, h("p", { class: "error", role: "alert" }, reply.error?.message || z.failed));
    }
    draw(reply.closing, after(reply));
  }

  function draw(c, notice) {
    const allClosed = c.rooms.length && c.rooms.every((r) => r.closed_at);
    const counts = Object.entries(c.counts).map(([status, n]) => `${status} ${n} 人`).join("，");
    mount(app,
      h("div", { class: "row-actions" }, h("button", { type: "button", class: "secondary", id: "back-to-sittings", onclick: back }, z.back)),
      h("div", { class: "card closing" },
        h("h2", {}, sitting.name),
        h("div", { id: "closing-message", role: "status" }, notice ? h("p", { class: "ok" }, notice) : null),
        h("section", { class: "arrange-part" }, h("h3", {}, z.roomsTitle),
          h("table", { class: "grid", id: "closing-rooms" },
            h("thead", {}, h("tr", {}, h("th", {}, z.room), h("th", {}, z.state))),
            h("tbody", {}, c.rooms.map((r) => h("tr", { dataset: { room: r.id } }, h("td", {}, r.name),
              h("td", { class: r.closed_at ? "ok" : "" }, r.closed_at ? z.closedAt(when(r.closed_at)) : z.open(r.why_open)))))),
          allClosed ? null : h("div", { class: "row-actions" },
            h("button", { type: "button", class: "primary", id: "close-rooms", onclick: () => act("close", (reply) =>
              reply.rooms.map((r) => `${r.room}：${r.why}`).join("；")) }, z.close),
            h("span", { class: "hint" }, z.closeHint))),
        h("section", { class: "arrange-part" }, h("h3", {}, z.resultsTitle),
          h("p", { id: "closing-counts" }, counts ? z.counts(counts, c.passed) : z.nobody),
          h("div", { class: "row-actions" },
            h("a", { href: `${base}/results.xlsx`, class: "button secondary", id: "results-xlsx" }, z.xlsx),
            h("a", { href: `${base}/results.csv`, class: "button secondary", id: "results-csv" }, z.csv))),
        h("section", { class: "arrange-part" }, h("h3", {}, z.publishTitle),
          h("p", { id: "publication", class: c.published_at ? "ok" : "warning" }, c.publication),
          c.published_at ? null : h("div", { class: "row-actions" },
            h("button", { type: "button", class: "primary", id: "publish", disabled: !allClosed,
              onclick: () => window.confirm(z.publishConfirm) && act("publish", () => z.published) }, z.publish),
            h("span", { class: "hint" }, allClosed ? z.publishHint : z.closeFirst))),
        h("section", { class: "arrange-part" }, h("h3", {}, z.archiveTitle),
          h("p", { class: "hint" }, z.archiveHint),
          allClosed ? h("a", { href: `${base}/archive.zip`, class: "button secondary", id: "archive" }, z.archive)
            : h("p", { class: "hint" }, z.closeFirst))));
  }

  await load();
}
