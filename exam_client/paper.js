// The paper on screen: one question at a time, the answer sheet (答题卡) navigator beside it.
import { h, mount } from "/static/js/dom.js";
import { zh } from "./i18n.js";

const LETTERS = "ABCDEFGH";

export class PaperView {
  constructor(root, paper, { answers, flags, onAnswer, onFlag, imageUrl, startItemId, onShow }) {
    // Pictures are fetched one by one from an authenticated route; the paper payload holds only their places.
    this.imageUrl = imageUrl || ((itemId, index) => `/api/candidate/items/${itemId}/images/${index}`);
    this.root = root;
    this.sections = paper.sections;
    this.questions = [];
    this.sections.forEach((section, s) => {
      section.items.forEach((item) => {
        this.questions.push({ ...item, section: s, points: section.points, number: this.questions.length + 1 });
      });
    });
    this.answers = new Map(Object.entries(answers || {}).map(([k, v]) => [Number(k), v]));
    this.flags = new Set(flags || []);
    this.onAnswer = onAnswer;
    this.onFlag = onFlag;
    this.onShow = onShow; // told the item shown, so that a reopened exam comes back to it
    this.current = Math.max(0, this.questions.findIndex((q) => q.id === startItemId));
    this.keyHandler = (event) => this.onKey(event);
    document.addEventListener("keydown", this.keyHandler);
    this.build();
  }

  destroy() {
    document.removeEventListener("keydown", this.keyHandler);
  }

  isAnswered(itemId) {
    const value = this.answers.get(itemId);
    return value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);
  }

  answeredCount() {
    return this.questions.filter((q) => this.isAnswered(q.id)).length;
  }

  unansweredNumbers() {
    return this.questions.filter((q) => !this.isAnswered(q.id)).map((q) => q.number);
  }

  setAnswer(itemId, value) {
    this.answers.set(itemId, value);
    this.refreshNav();
  }

  build() {
    this.nav = h("nav", { class: "answer-sheet", "aria-label": zh.navigator });
    this.card = h("section", { class: "question-card", "aria-live": "polite" });
    this.progress = h("div", { class: "progress-line" });
    this.submitArea = h("div", { class: "submit-area" });
    mount(
      this.root,
      h("div", { class: "paper-layout" },
        h("aside", { class: "sheet-panel" },
          h("h2", {}, zh.navigator),
          this.progress,
          this.nav,
          h("ul", { class: "legend" },
            h("li", {}, h("span", { class: "chip answered" }), zh.legendAnswered),
            h("li", {}, h("span", { class: "chip" }), zh.legendUnanswered),
            h("li", {}, h("span", { class: "chip flagged" }), zh.legendFlagged),
            h("li", {}, h("span", { class: "chip current" }), zh.legendCurrent),
          ),
          this.submitArea,
        ),
        this.card,
      ),
    );
    this.renderNav();
    this.show(this.current);
  }

  renderNav() {
    const groups = this.sections.map((section, s) => {
      const buttons = this.questions
        .filter((q) => q.section === s)
        .map((q) =>
          h("button", {
            type: "button", class: "sheet-cell", dataset: { index: q.number - 1, itemId: q.id },
            "aria-label": `${zh.questionOf(q.number, this.questions.length)}`,
            onclick: () => this.show(q.number - 1),
          }, String(q.number)),
        );
      return h("div", { class: "sheet-group" },
        h("h3", {}, zh.sectionTitle(s, section.label, section.items.length, section.points)),
        h("div", { class: "sheet-grid" }, buttons));
    });
    mount(this.nav, ...groups);
    this.refreshNav();
  }

  refreshNav() {
    for (const cell of this.nav.querySelectorAll(".sheet-cell")) {
      const itemId = Number(cell.dataset.itemId);
      const index = Number(cell.dataset.index);
      cell.classList.toggle("answered", this.isAnswered(itemId));
      cell.classList.toggle("flagged", this.flags.has(itemId));
      cell.classList.toggle("current", index === this.current);
      if (index === this.current) cell.setAttribute("aria-current", "true");
      else cell.removeAttribute("aria-current");
    }
    this.progress.textContent = zh.answeredCount(this.answeredCount(), this.questions.length);
  }

  show(index) {
    this.current = Math.max(0, Math.min(index, this.questions.length - 1));
    const q = this.questions[this.current];
    this.onShow?.(q.id);
    const section = this.sections[q.section];
    const flagged = this.flags.has(q.id);
    mount(
      this.card,
      h("div", { class: "question-head" },
        h("span", { class: "question-number" }, zh.questionOf(q.number, this.questions.length)),
        h("span", { class: `type-badge type-${q.type}` }, `${section.label}题`),
        h("span", { class: "points" }, zh.points(q.points)),
        flagged ? h("span", { class: "flag-badge" }, "⚑ " + zh.legendFlagged) : null,
      ),
      h("p", { class: "type-hint" }, zh.typeHint[q.type]),
      h("p", { class: "stem", id: "stem" }, `${q.number}. ${q.stem}`),
      q.images ? h("figure", { class: "stem-images" }, q.images.map((image) =>
        h("img", { src: this.imageUrl(q.id, image.index), alt: image.alt || "试题图片" }))) : null,
      this.renderChoices(q),
      h("div", { class: "question-actions" },
        h("button", { type: "button", class: "secondary", id: "prev", disabled: this.current === 0,
          onclick: () => this.show(this.current - 1) }, "← " + zh.prev),
        h("button", { type: "button", class: flagged ? "flag active" : "flag", id: "flag",
          "aria-pressed": flagged ? "true" : "false",
          onclick: () => this.toggleFlag(q.id) }, flagged ? zh.unflag : "⚑ " + zh.flag),
        h("button", { type: "button", class: "primary", id: "next",
          disabled: this.current === this.questions.length - 1,
          onclick: () => this.show(this.current + 1) }, zh.next_q + " →"),
      ),
      h("p", { class: "keyboard-hint" }, zh.keyboardHint),
    );
    this.refreshNav();
  }

  choices(q) {
    if (q.type === "true_false") {
      return [
        { value: true, letter: "A", text: zh.trueLabel },
        { value: false, letter: "B", text: zh.falseLabel },
      ];
    }
    return q.options.map((o, i) => ({ value: o.id, letter: LETTERS[i], text: o.text }));
  }

  renderChoices(q) {
    const current = this.answers.get(q.id);
    const multiple = q.type === "multiple";
    const inputType = multiple ? "checkbox" : "radio";
    const rows = this.choices(q).map((choice) => {
      const checked = multiple ? Array.isArray(current) && current.includes(choice.value) : current === choice.value;
      const input = h("input", {
        type: inputType, name: `q${q.id}`, checked,
        onchange: () => this.choose(q, choice.value),
      });
      return h("label", { class: checked ? "choice selected" : "choice" },
        input,
        h("span", { class: "choice-letter" }, choice.letter + "."),
        h("span", { class: "choice-text" }, choice.text));
    });
    return h("fieldset", { class: `choices ${inputType}`, "aria-labelledby": "stem" }, rows);
  }

  choose(q, value) {
    let response = value;
    if (q.type === "multiple") {
      const chosen = new Set(Array.isArray(this.answers.get(q.id)) ? this.answers.get(q.id) : []);
      if (chosen.has(value)) chosen.delete(value);
      else chosen.add(value);
      response = [...chosen].sort();
      if (response.length === 0) response = null;
    }
    this.setAnswer(q.id, response);
    this.show(this.current); // re-render the selection state
    this.onAnswer(q.id, response);
  }

  toggleFlag(itemId) {
    const flagged = !this.flags.has(itemId);
    if (flagged) this.flags.add(itemId);
    else this.flags.delete(itemId);
    this.show(this.current);
    this.onFlag(itemId, flagged);
  }

  onKey(event) {
    if (event.ctrlKey || event.altKey || event.metaKey || document.querySelector("dialog[open]")) return;
    const q = this.questions[this.current];
    if (event.key === "ArrowRight" || event.key === "PageDown") {
      this.show(this.current + 1);
      event.preventDefault();
      return;
    }
    if (event.key === "ArrowLeft" || event.key === "PageUp") {
      this.show(this.current - 1);
      event.preventDefault();
      return;
    }
    const key = event.key.toUpperCase();
    const choices = this.choices(q);
    let index = LETTERS.indexOf(key);
    if (index < 0 && /^[1-8]$/.test(key)) index = Number(key) - 1;
    if (index >= 0 && index < choices.length) {
      this.choose(q, choices[index].value);
      event.preventDefault();
    }
  }
}
