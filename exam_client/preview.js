// The bank admin's preview of one item, drawn by the exam client's own paper view: exactly what a
// candidate sees (from the server's to_candidate payload, without the answer key). Nothing is sent.
import { PaperView } from "./paper.js";

const app = document.getElementById("app");
const id = new URLSearchParams(location.search).get("item");
const response = await fetch(`/api/bank/items/${encodeURIComponent(id)}`, { credentials: "same-origin" });
const body = await response.json();
if (!body.ok) {
  app.textContent = body.error?.message || "无法预览";
} else {
  const item = body.candidate_view;
  const paper = { sections: [{ type: item.type, label: body.item.type_label, points: 1, items: [item] }] };
  new PaperView(app, paper, {
    answers: {}, flags: [], onAnswer: () => {}, onFlag: () => {},
    imageUrl: (itemId, index) => `/api/bank/items/${itemId}/images/${index}`,
  });
}
