// The exam client: ticket login, identity check, waiting screens, the paper, submission.
// The server decides every phase; this module only shows what the server says and sends changes.
import { io } from "/static/vendor/socket.io.esm.min.js";
import { post } from "/static/js/api.js";
import { Countdown, formatClockTime, formatDuration } from "./clock.js";
import { h, mount } from "/static/js/dom.js";
import { zh } from "./i18n.js";
import { Journal } from "./journal.js";
import { PaperView } from "./paper.js";

const app = document.getElementById("app");
const header = document.getElementById("exam-header");
const banner = document.getElementById("banner");
const ACK_TIMEOUT_MS = 10000;
const CLOCK_SYNC_MS = 30000;

const ui = {
  socket: null,
  state: null,
  journal: null,
  paperView: null,
  paperNo: null, // which paper the view shows (2 and up: a backup paper replaced the first)
  countdown: null,
  warned: false,
  saveStatus: "saved",
  submitOpensAt: null, // performance.now() value from which 结束考试 is allowed
};

// ---- font size (the candidate can make text larger; remembered on this computer) ----
const FONT_STEPS = [1, 1.15, 1.3, 1.5];
let fontStep = Number(localStorage.getItem("jikao.fontStep") || 1);
function applyFont() {
  document.documentElement.style.setProperty("--font-scale", FONT_STEPS[fontStep]);
  localStorage.setItem("jikao.fontStep", String(fontStep));
}
function fontControls() {
  return h("div", { class: "font-controls", role: "group", "aria-label": zh.fontLabel },
    h("span", {}, zh.fontLabel),
    h("button", { type: "button", id: "font-smaller", "aria-label": "减小字号",
      onclick: () => { fontStep = Math.max(0, fontStep - 1); applyFont(); } }, zh.fontSmaller),
    h("button", { type: "button", id: "font-larger", "aria-label": "增大字号",
      onclick: () => { fontStep = Math.min(FONT_STEPS.length - 1, fontStep + 1); applyFont(); } }, zh.fontLarger));
}
applyFont();

// ---- login ----
function showLogin(message) {
  header.hidden = true;
  const input = h("input", { id: "ticket", name: "ticket", inputmode: "numeric", autocomplete: "off",
    placeholder: zh.ticketPlaceholder, maxlength: "32", required: true });
  const error = h("p", { class: "error", role: "alert", id: "login-error" }, message || "");
  const form = h("form", { class: "card login-card", onsubmit: async (event) => {
    event.preventDefault();
    error.textContent = "";
    const result = await post("/api/candidate/lookup", { ticket: input.value.trim() });
    if (!result.ok) {
      error.textContent = result.error.message || zh.serverError;
      input.select();
      return;
    }
    showConfirm(result.candidate);
  } },
    h("h1", {}, zh.appTitle),
    h("p", { class: "subtitle" }, zh.appSubtitle),
    h("label", { for: "ticket", class: "big-label" }, zh.ticketLabel),
    input,
    error,
    h("button", { type: "submit", class: "primary large", id: "lookup" }, zh.next));
  mount(app, h("div", { class: "center-screen" }, form, fontControls()));
  input.focus();
}

function profileTable(candidate) {
  const rows = ["name", "ticket", "id_number_masked", "occupation", "level", "subject", "room", "seat"];
  return h("table", { class: "profile" },
    h("tbody", {}, rows.map((key) => h("tr", {}, h("th", {}, zh.fields[key]), h("td", { dataset: { field: key } },
      String(candidate[key]))))));
}

function showConfirm(candidate) {
  const error = h("p", { class: "error", role: "alert" });
  mount(app, h("div", { class: "center-screen" },
    h("div", { class: "card" },
      h("h1", {}, zh.checkInfo),
      profileTable(candidate),
      h("p", { class: "hint" }, zh.infoWrongHint),
      error,
      h("div", { class: "actions" },
        h("button", { type: "button", class: "secondary large", onclick: () => showLogin() }, zh.infoWrong),
        h("button", { type: "button", class: "primary large", id: "confirm-login", onclick: async () => {
          const result = await post("/api/candidate/login", { ticket: candidate.ticket });
          if (!result.ok) {
            error.textContent = result.error.message || zh.serverError;
            return;
          }
          connect();
        } }, zh.infoCorrect)))));
}

// ---- the live connection ----
function connect() {
  if (ui.socket) ui.socket.disconnect();
  mount(app, h("div", { class: "center-screen" }, h("p", { class: "notice" }, zh.connecting)));
  const socket = io("/candidate", { transports: ["websocket"], reconnectionDelayMax: 3000 });
  ui.socket = socket;
  socket.on("state", (state) => render(state));
  socket.on("notice", (notice) => {
    if (notice.kind === "time_warning") {
      if (ui.state) syncClock(notice.clock);
      if (!ui.warned && ui.paperView) showTimeWarning(notice.clock.remaining_ms);
    }
    if (notice.kind === "announcement") showAnnouncement(notice.text);
  });
  socket.on("session_ended", (info) => endSession(info.message));
  socket.on("connect_error", (err) => {
    // The server refused the connection: this browser holds no (or no longer a) login.
    // On first load that simply means "not logged in yet": show the login without an error.
    if (err.data && err.data.code) endSession(ui.state ? err.data.message : null);
    else setSaveStatus("offline");
  });
  socket.on("disconnect", () => setSaveStatus("offline"));
  socket.on("connect", () => setSaveStatus(ui.journal && ui.journal.size ? "saving" : "saved"));
  socket.on("error", (err) => console.warn("server refused", err));
}

// Leaving the exam window (another program, another tab) is reported to the proctors while answering.
let focusLost = false;
function reportFocus(lost) {
  if (lost === focusLost) return;
  focusLost = lost;
  if (lost && ui.state?.phase === "answering" && ui.socket?.connected) ui.socket.emit("focus", { lost: true });
}
window.addEventListener("blur", () => reportFocus(true));
window.addEventListener("focus", () => reportFocus(false));
document.addEventListener("visibilitychange", () => reportFocus(document.visibilityState === "hidden"));

function endSession(message) {
  ui.socket?.disconnect();
  ui.socket = null;
  ui.state = null;
  teardownPaper();
  showLogin(message || "");
}

function teardownPaper() {
  ui.paperView?.destroy();
  ui.paperView = null;
  ui.paperNo = null;
  ui.submitButton = null;
  ui.submitNote = null;
  document.getElementById("paused-overlay")?.remove();
  for (const dialog of document.querySelectorAll("dialog")) dialog.remove();
  banner.hidden = true;
}

function render(state) {
  ui.state = state;
  const ticket = state.candidate.ticket;
  if (!ui.journal || ui.journal.key !== `jikao.journal.${ticket}`) ui.journal = new Journal(ticket);
  renderHeader(state);
  const latest = state.announcements?.at(-1);
  if (latest && banner.hidden) {
    banner.hidden = false;
    banner.textContent = `${zh.announcementTitle}：${latest.text}`;
  }
  if (!ui.countdown) ui.countdown = new Countdown((ms) => onTick(ms));
  syncClock(state.clock);
  switch (state.phase) {
    case "awaiting_confirmation":
      return showWaiting(zh.awaitingTitle, zh.awaitingText, state, "awaiting");
    case "waiting_start":
      return showWaiting(zh.waitingTitle, zh.waitingText, state, "waiting");
    case "answering":
    case "paused":
      return showPaper(state);
    case "time_up":
      teardownPaper();
      return mount(app, h("div", { class: "center-screen" }, h("div", { class: "card" },
        h("h1", {}, zh.timeUpTitle), h("p", {}, zh.timeUpText))));
    case "submitted":
      return showSubmitted(state);
    default:
      return showLogin();
  }
}

function renderHeader(state) {
  header.hidden = false;
  const c = state.candidate;
  mount(header,
    h("div", { class: "header-exam" }, `${c.occupation} ${c.level} ${c.subject}`),
    h("div", { class: "header-person" },
      h("strong", { id: "candidate-name" }, c.name),
      h("span", {}, `${zh.fields.ticket} ${c.ticket}`),
      h("span", {}, `${zh.fields.seat} ${c.seat}`)),
    state.phase === "submitted" ? h("div", { class: "header-clock" }, zh.endedTitle[state.submit_reason] || zh.submittedTitle) : [
      h("div", { class: "header-clock", role: "timer", "aria-live": "off" },
        h("span", { class: "clock-label" }, zh.remaining),
        h("span", { class: "clock-value", id: "countdown" }, "--:--:--")),
      h("div", { class: "save-status", id: "save-status", role: "status" })],
    fontControls());
  setSaveStatus(ui.saveStatus);
}

function showWaiting(title, text, state, kind) {
  teardownPaper();
  const minutes = Math.round((state.submit_after_s ?? 1800) / 60);
  mount(app, h("div", { class: "center-screen" },
    h("div", { class: `card waiting ${kind}`, id: `screen-${kind}` },
      h("div", { class: "waiting-icon", "aria-hidden": "true" }, kind === "awaiting" ? "🪪" : "⏳"),
      h("h1", {}, title),
      h("p", { class: "lead" }, text),
      profileTable(state.candidate),
      h("h2", {}, zh.rulesTitle),
      h("ol", { class: "rules" }, zh.rules.map((r) => h("li", {}, r.replace("{minutes}", minutes)))))));
}

// ---- the paper ----
function showPaper(state) {
  const journal = ui.journal;
  journal.catchUp(state.last_seq);
  if (ui.paperView && ui.paperNo !== state.paper_no) {
    // A backup paper replaced this one (an item of it was declared leaked): draw the new paper from scratch.
    ui.paperView.destroy();
    ui.paperView = null;
    ui.submitButton = null;
    ui.submitNote = null;
    document.getElementById("submit-dialog")?.remove(); // it counted the old paper's unanswered items
  }
  if (ui.paperNo !== state.paper_no) {
    const inPaper = new Set(state.paper.sections.flatMap((s) => s.items.map((item) => item.id)));
    journal.keepOnly(inPaper); // answers to items no longer in the paper can never be stored
    ui.paperNo = state.paper_no;
  }
  const answers = { ...state.answers };
  for (const entry of journal.entries()) answers[entry.itemId] = entry.response; // not yet acknowledged
  if (!ui.paperView) {
    const body = h("div", { class: "exam-body" });
    mount(app, body);
    const position = `jikao.position.${state.candidate.ticket}`; // the question on screen, kept for a reopen
    ui.paperView = new PaperView(body, state.paper, {
      answers, flags: state.flags,
      startItemId: Number(localStorage.getItem(position)),
      onShow: (itemId) => localStorage.setItem(position, String(itemId)),
      onAnswer: (itemId, response) => sendAnswer(itemId, response),
      onFlag: (itemId, flagged) => ui.socket.emit("flag", { item_id: itemId, flagged }),
    });
    ui.submitButton = h("button", { type: "button", class: "danger large", id: "submit-exam",
      onclick: () => openSubmitDialog() }, zh.submit);
    ui.submitNote = h("span", { class: "submit-note" });
    ui.paperView.submitArea.append(ui.submitButton, ui.submitNote);
  }
  ui.paperView.root.classList.toggle("paused", state.phase === "paused");
  setPausedOverlay(state.phase === "paused");
  resend();
  if (state.clock.remaining_ms <= state.warning_s * 1000 && !ui.warned) showTimeWarning(state.clock.remaining_ms);
  if (state.paper_replaced) showPaperReplaced(state);
}

// The proctor's broadcast: shown at once over whatever screen is up, and kept in the banner.
function showAnnouncement(text) {
  document.getElementById("announcement")?.remove();
  const dialog = h("dialog", { class: "modal", id: "announcement" },
    h("h2", {}, zh.announcementTitle),
    h("p", { class: "announcement-text" }, text),
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary large",
      onclick: () => { dialog.close(); dialog.remove(); } }, zh.ok)));
  document.body.append(dialog);
  dialog.showModal();
  banner.hidden = false;
  banner.textContent = `${zh.announcementTitle}：${text}`;
}

// Said once per replacement, even across a reload: the candidate must know why the questions changed.
function showPaperReplaced(state) {
  const key = `jikao.replaced.${state.candidate.ticket}.${state.paper_no}`;
  if (localStorage.getItem(key) || document.getElementById("paper-replaced")) return;
  const kept = Object.keys(state.answers).length;
  const dialog = h("dialog", { class: "modal", id: "paper-replaced" },
    h("h2", {}, zh.replacedTitle),
    h("p", {}, zh.replacedText),
    h("p", {}, kept ? zh.replacedKept(kept) : zh.replacedNoneKept),
    h("p", {}, zh.replacedTime),
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary large", id: "paper-replaced-ok",
      onclick: () => { localStorage.setItem(key, "1"); dialog.close(); dialog.remove(); } }, zh.ok)));
  document.body.append(dialog);
  dialog.showModal();
}

function setPausedOverlay(paused) {
  let overlay = document.getElementById("paused-overlay");
  if (!paused) return overlay?.remove();
  if (!overlay) {
    overlay = h("div", { id: "paused-overlay", class: "overlay" },
      h("div", { class: "card" }, h("h1", {}, zh.pausedTitle), h("p", {}, zh.pausedText)));
    document.body.append(overlay);
  }
}

function sendAnswer(itemId, response) {
  const seq = ui.journal.record(itemId, response);
  emitAnswer(itemId, response, seq);
}

// Refusals that no retry can change; anything else (a busy or failing server, a pause) is retried.
const FINAL_REFUSALS = ["invalid_response", "invalid_payload"];
const PHASE_CHANGES = ["time_up", "submitted", "session_ended", "not_started"];
const RETRY_MS = 3000;

function emitAnswer(itemId, response, seq) {
  setSaveStatus(ui.socket?.connected ? "saving" : "offline");
  if (!ui.socket?.connected) return; // replayed from the journal on reconnect
  ui.socket.timeout(ACK_TIMEOUT_MS).emit("answer", { item_id: itemId, response, seq }, (err, ack) => {
    if (err) return setSaveStatus("offline"); // no answer in time: stays in the journal
    if (ack.ok) {
      ui.journal.acknowledge(ack.item_id, ack.seq);
      setSaveStatus(ui.journal.size ? "saving" : "saved");
    } else if (ack.error.code === "not_in_paper") {
      // The item left the paper (a backup paper replaced it): nothing is lost; show the paper as it is now.
      ui.journal.acknowledge(itemId, seq);
      ui.socket.emit("get_state", {}, (reply) => reply.ok && render(reply.state));
    } else if (PHASE_CHANGES.includes(ack.error.code)) {
      ui.socket.emit("get_state", {}, (reply) => reply.ok && render(reply.state));
    } else if (FINAL_REFUSALS.includes(ack.error.code)) {
      ui.journal.acknowledge(itemId, seq); // can never be stored: do not resend it
      setSaveStatus("failed");
    } else {
      setSaveStatus("saving"); // kept in the journal and sent again
      setTimeout(() => retryPending(itemId, seq), RETRY_MS);
    }
  });
}

function retryPending(itemId, seq) {
  const entry = ui.journal?.pending[itemId];
  if (entry && entry.seq === seq) emitAnswer(itemId, entry.response, seq);
}

function resend() {
  for (const entry of ui.journal.entries()) emitAnswer(entry.itemId, entry.response, entry.seq);
  if (!ui.journal.size) setSaveStatus("saved");
}

function setSaveStatus(status) {
  ui.saveStatus = status;
  const el = document.getElementById("save-status");
  if (!el) return;
  const text = { saved: "✓ " + zh.saved, saving: zh.saving, offline: zh.offline, failed: zh.saveFailed }[status];
  el.textContent = text;
  el.className = `save-status ${status}`;
}

// ---- the clock ----
// Every reading of the server's clock re-anchors both the countdown and the moment submission opens
// on the browser's monotonic clock (the server's "now" against the opening time, never the PC's time).
function syncClock(clock) {
  ui.state.clock = clock;
  ui.countdown.sync(clock);
  const opens = ui.state.submit_opens_at;
  ui.submitOpensAt = opens ? performance.now() + (Date.parse(opens) - Date.parse(clock.server_now)) : null;
}

function onTick(ms) {
  const el = document.getElementById("countdown");
  if (!el || ms === null || !ui.state) return;
  const started = ui.state.clock.started_at !== null;
  el.textContent = !started ? zh.notStarted : ui.countdown.paused ? zh.paused : formatDuration(ms);
  el.classList.toggle("urgent", started && ms <= ui.state.warning_s * 1000);
  if (ui.submitButton && ui.submitOpensAt !== null) {
    const wait = ui.submitOpensAt - performance.now();
    ui.submitButton.disabled = wait > 0;
    ui.submitNote.textContent = wait > 0 ? zh.submitNotYet(formatDuration(wait)) : "";
  }
  if (started && ui.state.phase === "answering" && ms <= ui.state.warning_s * 1000 && ms > 0 && !ui.warned) {
    showTimeWarning(ms);
  }
  if (started && ms === 0 && ui.state.phase === "answering") {
    render({ ...ui.state, phase: "time_up", clock: { ...ui.state.clock, remaining_ms: 0 } });
    // The server submits at time-up and pushes the new state; ask in case the push is missed.
    setTimeout(() => ui.socket?.emit("get_state", {}, (r) => r.ok && render(r.state)), 1500);
  }
}

setInterval(() => {
  if (ui.socket?.connected && ui.state && ["answering", "paused", "waiting_start"].includes(ui.state.phase)) {
    ui.socket.emit("sync_clock", {}, (reply) => {
      if (reply.ok) syncClock(reply.clock);
    });
  }
}, CLOCK_SYNC_MS);

function showTimeWarning(ms) {
  ui.warned = true;
  const minutes = Math.max(1, Math.ceil(ms / 60000));
  const dialog = h("dialog", { class: "modal", id: "time-warning" },
    h("h2", {}, zh.warningTitle),
    h("p", {}, zh.warningText(minutes)),
    h("div", { class: "actions" }, h("button", { type: "button", class: "primary large",
      onclick: () => { dialog.close(); dialog.remove(); } }, zh.ok)));
  document.body.append(dialog);
  dialog.showModal();
  banner.hidden = false;
  banner.textContent = zh.warningText(minutes);
}

// ---- submission ----
function openSubmitDialog() {
  const unanswered = ui.paperView.unansweredNumbers();
  const list = unanswered.slice(0, 20).join("、") + (unanswered.length > 20 ? "……" : "");
  const error = h("p", { class: "error", role: "alert" });
  const dialog = h("dialog", { class: "modal", id: "submit-dialog" },
    h("h2", {}, zh.submitTitle),
    h("p", { class: unanswered.length ? "warn" : "" },
      unanswered.length ? zh.submitUnanswered(unanswered.length, list) : zh.submitAllAnswered),
    h("p", {}, zh.submitWarning),
    error,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary large", autofocus: true,
        onclick: () => { dialog.close(); dialog.remove(); } }, zh.submitBack),
      h("button", { type: "button", class: "danger large", id: "confirm-submit", onclick: () => {
        ui.socket.timeout(ACK_TIMEOUT_MS).emit("submit", { confirm: true }, (err, ack) => {
          if (err) return (error.textContent = zh.serverError);
          if (!ack.ok) return (error.textContent = ack.error.message);
          dialog.close();
          dialog.remove();
          render(ack.state);
        });
      } }, zh.submitConfirm)));
  document.body.append(dialog);
  dialog.showModal();
}

function showSubmitted(state) {
  teardownPaper();
  ui.journal?.clear();
  const lines = [
    h("p", { class: "lead" }, zh.submittedBy[state.submit_reason] || zh.submittedBy.candidate),
    h("p", {}, zh.submittedAt(formatClockTime(state.submitted_at, state.timezone))),
    h("p", {}, zh.submittedAnswered(state.answered, state.total)),
    "score" in state ? h("p", { class: "score", id: "score" }, zh.scoreLine(state.score, state.passed))
      : state.submit_reason === "rescheduled" ? null : h("p", { class: "hint" }, zh.scoreHidden),
    h("p", { class: "hint" }, zh.leaveHint),
  ];
  mount(app, h("div", { class: "center-screen" },
    h("div", { class: "card done", id: "screen-submitted" }, h("div", { class: "waiting-icon" }, "✔"),
      h("h1", {}, zh.endedTitle[state.submit_reason] || zh.submittedTitle), lines)));
}

// ---- start: resume the login this browser holds (the cookie is HttpOnly, so just try), else ask ----
connect();
