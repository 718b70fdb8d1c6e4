// 成绩查询: a candidate looks up their result with ticket and ID number; the server answers only once the
// sitting's results are published.
import { post } from "/static/js/api.js";
import { h, mount } from "/static/js/dom.js";

const app = document.getElementById("app");
const ticket = h("input", { id: "ticket", inputmode: "numeric", autocomplete: "off", maxlength: "32", required: true,
  placeholder: "请输入准考证号" });
const idNumber = h("input", { id: "id-number", autocomplete: "off", maxlength: "32", required: true,
  placeholder: "请输入证件号码" });
const answer = h("div", { id: "result", role: "status" });

function show(reply) {
  if (!reply.ok) return mount(answer, h("p", { class: "error", role: "alert" }, reply.error?.message || "查询失败，请重试。"));
  if (!reply.published) return mount(answer, h("p", { class: "notice", id: "not-published" }, reply.message));
  const rows = [["考试", reply.sitting], ["姓名", reply.name], ["状态", reply.status]];
  if (reply.score !== null) rows.push(["成绩", `${reply.score} 分`], ["是否合格", reply.verdict]);
  if (reply.reason) rows.push(["说明", reply.reason]);
  mount(answer, h("table", { class: "profile", id: "result-table" },
    h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, String(v)))))));
}

mount(app, h("div", { class: "center-screen" }, h("form", { class: "card login-card", onsubmit: async (event) => {
  event.preventDefault();
  show(await post("/api/candidate/result", { ticket: ticket.value.trim(), id_number: idNumber.value.trim() }));
} },
h("h1", {}, "成绩查询"),
h("p", { class: "subtitle" }, "职业技能等级认定 · 理论知识考试"),
h("label", { for: "ticket", class: "big-label" }, "准考证号"), ticket,
h("label", { for: "id-number", class: "big-label" }, "证件号码"), idNumber,
h("button", { type: "submit", class: "primary large", id: "query" }, "查询"),
answer)));
ticket.focus();
