// The proctor console: log in, watch the room's seats live, confirm identities, start the room.
import { io } from "/static/vendor/socket.io.esm.min.js";
import { post, session } from "/static/js/api.js";
import { h, mount } from "/static/js/dom.js";
import { zh } from "./i18n.js";

const app = document.getElementById("app");
const bar = document.getElementById("topbar");
const state = { account: null, socket: null, room: null, seats: new Map(), clockBase: null };

// Times of day in the exam site's zone (the server says which), whatever this PC is set to.
function fmtTime(iso) {
  const timeZone = state.room?.timezone;
  return iso ? new Date(iso).toLocaleTimeString("zh-CN", { hour12: false, timeZone }) : "—";
}
function fmtDuration(ms) {
  const t = Math.ceil(ms / 1000);
  return [Math.floor(t / 3600), Math.floor((t % 3600) / 60), t % 60].map((v) => String(v).padStart(2, "0")).join(":");
}

function fmtSpan(seconds) { // 125 → "2 分 5 秒"
  const m = Math.floor(seconds / 60), s = seconds % 60;
  return m ? `${m} 分 ${s} 秒` : `${s} 秒`;
}

// ---- login ----
function showLogin(message) {
  bar.hidden = true;
  const user = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const pass = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password",
    required: true });
  const error = h("p", { class: "error", role: "alert", id: "login-error" }, message || "");
  mount(app, h("form", { class: "card login", onsubmit: async (event) => {
    event.preventDefault();
    const result = await post("/api/auth/login", { username: user.value, password: pass.value });
    if (!result.ok) {
      error.textContent = result.error?.message || zh.loginError;
      return;
    }
    state.account = result.account;
    connect();
  } },
    h("h1", {}, zh.title),
    h("p", { class: "subtitle" }, zh.appTitle),
    h("label", { for: "username" }, zh.username), user,
    h("label", { for: "password" }, zh.password), pass,
    error,
    h("button", { type: "submit", class: "primary", id: "login" }, zh.login)));
  user.focus();
}

// ---- live connection ----
function connect() {
  state.socket?.disconnect();
  const socket = io("/proctor", { transports: ["websocket"], reconnectionDelayMax: 3000 });
  state.socket = socket;
  socket.on("connect", () => {
    document.getElementById("conn-lost")?.remove();
    socket.emit("list_rooms", {}, (reply) => {
      if (!reply.ok) return showLogin(reply.error.message);
      if (!reply.rooms.length) return mount(app, h("p", { class: "card" }, zh.noRooms));
      const roomId = state.room?.id ?? reply.rooms[0].id;
      watch(roomId, reply.rooms);
    });
  });
  socket.on("connect_error", (err) => {
    if (err.data?.code) showLogin(err.data.message);
    else showConnectionLost();
  });
  socket.on("disconnect", () => showConnectionLost());
  socket.on("seat_update", (seat) => {
    state.seats.set(seat.candidate_id, seat);
    renderSeat(seat);
    renderCounts();
  });
  // An answer was stored: only the seat's progress and last activity changed.
  socket.on("seat_progress", (progress) => {
    const seat = state.seats.get(progress.candidate_id);
    if (!seat) return;
    Object.assign(seat, progress);
    renderSeat(seat);
  });
  socket.on("room_update", (room) => renderRoom(room));
  socket.on("feed", (line) => addFeedLine(line));
  socket.on("error", (err) => console.warn("server refused", err));
}

function showConnectionLost() {
  if (document.getElementById("conn-lost")) return;
  document.body.prepend(h("div", { id: "conn-lost", class: "conn-lost", role: "alert" }, zh.connectionLost));
}

function watch(roomId, rooms) {
  state.rooms = rooms;
  state.socket.emit("watch_room", { room_id: roomId }, (reply) => {
    if (!reply.ok) return mount(app, h("p", { class: "card error" }, reply.error.message));
    renderRoom(reply.room);
  });
}

// ---- the room ----
function renderTopbar() {
  bar.hidden = false;
  const select = state.rooms.length > 1
    ? h("select", { id: "room-select", "aria-label": zh.chooseRoom, onchange: (e) => watch(Number(e.target.value), state.rooms) },
      state.rooms.map((r) => h("option", { value: r.id, selected: r.id === state.room.id }, r.name)))
    : null;
  mount(bar,
    h("div", { class: "brand" }, zh.title),
    h("div", { class: "room-name" }, state.room.session.name, " · ", h("strong", {}, state.room.name)),
    select,
    h("div", { class: "who" }, `${state.account.display_name}（${state.account.role_label}）`),
    h("button", { type: "button", class: "link", onclick: async () => {
      await post("/api/auth/logout", {});
      state.socket?.disconnect();
      showLogin();
    } }, zh.logout));
}

function renderRoom(room) {
  state.room = room;
  state.seats = new Map(room.seats.map((s) => [s.candidate_id, s]));
  state.clockBase = { at: performance.now(), clock: room.clock };
  state.serverOffset = Date.parse(room.clock.server_now) - Date.now(); // server time = Date.now() + offset
  renderTopbar();
  const grid = h("div", { class: "seat-grid", id: "seat-grid",
    style: `grid-template-columns: repeat(${room.cols}, minmax(9rem, 1fr))` });
  const started = room.clock.started_at !== null;
  const canAct = state.account.role !== "supervisor";
  const startButton = h("button", { type: "button", class: "primary big", id: "start-room", disabled: started || !canAct,
    onclick: () => confirmStart() }, started ? zh.started : zh.startRoom);
  const chief = state.account.role === "chief";
  const decide = () => ask(zh.chiefDecision, [
    { name: "decision", label: zh.decisionLabel, choices: zh.decisions, required: true },
    { name: "reason", label: zh.decisionWhat, value: "" },
  ], (v) => emit("chief_decision", { room_id: room.id, decision: v.decision, reason: v.reason }), zh.chiefDecisionNote);
  const pause = room.pause;
  const banner = pause ? h("div", { class: "pause-banner", id: "pause-banner", role: "status" },
    h("p", {}, zh.pausedBy(pause.reason, pause.by, fmtTime(pause.since))),
    pause.awaiting_chief ? h("p", { class: "strong" }, zh.awaitingChief) : null) : null;
  const roomActions = canAct && started ? h("div", { class: "room-actions" },
    chief && room.clock.paused
      ? h("button", { type: "button", class: "primary", id: "chief-decision", onclick: decide }, zh.chiefDecision) : null,
    pause?.awaiting_chief ? null : room.clock.paused // past 30 minutes, only the chief's decision resumes
      ? h("button", { type: "button", class: "primary", id: "resume-room", onclick: () => ask(zh.resumeRoom,
        [{ name: "reason", label: zh.reasonOptional, value: "" }], (v) => emit("resume_room", { room_id: room.id, reason: v.reason })) },
      zh.resumeRoom)
      : h("button", { type: "button", class: "secondary", id: "pause-room", onclick: () => ask(zh.pauseRoom,
        [{ name: "reason", label: zh.reason, required: true }], (v) => emit("pause_room", { room_id: room.id, reason: v.reason })) },
      zh.pauseRoom),
    h("button", { type: "button", class: "secondary", id: "extend-room", onclick: () => ask(zh.extendRoom, extendFields(),
      (v) => emit("extend", { room_id: room.id, minutes: Number(v.minutes), reason: v.reason })) }, zh.extendRoom),
    h("button", { type: "button", class: "secondary", id: "announce", onclick: () => ask(zh.announce,
      [{ name: "text", label: zh.announceText, required: true, multiline: true }],
      (v) => emit("announce", { room_id: room.id, text: v.text })) }, zh.announce),
    h("button", { type: "button", class: "secondary", id: "record-incident", onclick: () => ask(zh.recordIncident,
      [{ name: "what", label: zh.incidentWhat, required: true, multiline: true },
        { name: "decision", label: zh.incidentDecision, required: true }],
      (v) => emit("record_incident", { room_id: room.id, what: v.what, decision: v.decision })) }, zh.recordIncident)) : null;
  const feed = h("ol", { class: "feed", id: "feed" });
  mount(app,
    h("section", { class: "room-head" },
      h("div", { class: "clock-panel", id: "clock-panel" }),
      h("div", { class: "counts", id: "counts" }),
      roomActions,
      startButton),
    banner,
    h("div", { class: "room-body" },
      h("div", { class: "room-map" },
        h("p", { class: "legend-line" }, zh.seatLegend),
        h("div", { class: "podium" }, zh.podium),
        grid),
      h("aside", { class: "feed-panel" },
        h("div", { class: "feed-head" }, h("h2", {}, zh.feedTitle),
          h("a", { class: "secondary", id: "room-record", href: `/proctor/rooms/${room.id}/record`, target: "_blank",
            rel: "noopener" }, zh.roomRecord)),
        feed)));
  for (let r = 1; r <= room.rows; r++) {
    for (let c = 1; c <= room.cols; c++) {
      grid.append(h("div", { class: "seat empty", id: `cell-${r}-${c}`, style: `grid-row:${r};grid-column:${c}` }));
    }
  }
  for (const line of room.feed) addFeedLine(line);
  for (const seat of state.seats.values()) renderSeat(seat);
  renderCounts();
  renderClock();
}

function addFeedLine(line) {
  const feed = document.getElementById("feed");
  if (!feed || (state.room && line.room_id !== state.room.id)) return;
  feed.prepend(h("li", { class: `feed-${line.kind}`, dataset: { kind: line.kind } },
    h("time", {}, fmtTime(line.at)), " ", line.text));
  while (feed.children.length > 300) feed.lastChild.remove();
}

function emit(event, payload) {
  return new Promise((resolve) => state.socket.emit(event, payload, (reply) => resolve(reply)));
}

function extendFields() {
  return [{ name: "minutes", label: zh.minutes, type: "number", value: "10", required: true },
    { name: "reason", label: zh.reason, required: true }];
}

// A small form in a dialog: fields [{name, label, type, value, required, multiline}]; ``send`` returns the ack.
function ask(title, fields, send, note) {
  const error = h("p", { class: "error", role: "alert" });
  const inputs = fields.map((f) => f.choices
    ? h("div", { class: "choices", id: `ask-${f.name}`, role: "radiogroup" }, Object.entries(f.choices).map(([value, label]) =>
      h("label", { class: "choice" },
        h("input", { type: "radio", name: f.name, value, id: `ask-${f.name}-${value}`, required: f.required }), label)))
    : f.multiline
    ? h("textarea", { name: f.name, id: `ask-${f.name}`, rows: 3, required: f.required }, f.value || "")
    : h("input", { name: f.name, id: `ask-${f.name}`, type: f.type || "text", value: f.value ?? "", required: f.required,
      min: f.type === "number" ? 1 : undefined, max: f.type === "number" ? 120 : undefined }));
  const form = h("form", { method: "dialog", onsubmit: async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(fields.map((f) => [f.name, (form.elements[f.name].value || "").trim()]));
    const reply = await send(values);
    if (!reply.ok) return (error.textContent = reply.error.message);
    dialog.remove();
  } },
    h("h2", {}, title),
    note ? h("p", { class: "hint" }, note) : null,
    fields.map((f, i) => f.choices
      ? h("fieldset", { class: "field" }, h("legend", {}, f.label), inputs[i])
      : h("label", { class: "field" }, f.label, inputs[i])),
    error,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: () => dialog.remove() }, zh.cancel),
      h("button", { type: "submit", class: "primary", id: "ask-ok" }, zh.ok)));
  const dialog = h("dialog", { class: "modal", id: "ask-dialog" }, form);
  document.body.append(dialog);
  dialog.showModal();
  inputs[0]?.focus();
}

function serverNow() {
  return Date.now() + (state.serverOffset || 0);
}

// The state shown: the server's, plus 长时间无操作 worked out here as time passes without events.
function shownState(seat) {
  if (seat.state === "answering" && seat.last_seen_at &&
      serverNow() - Date.parse(seat.last_seen_at) > state.room.idle_after_s * 1000) return "idle";
  return seat.state;
}

function renderSeat(seat) {
  const cell = document.getElementById(`cell-${seat.row}-${seat.col}`);
  if (!cell) return;
  const shown = shownState(seat);
  const progress = seat.total ? h("div", { class: "progress" },
    h("div", { class: "bar", style: `width:${Math.round((100 * seat.answered) / seat.total)}%` }),
    h("span", {}, zh.progress(seat.answered, seat.total))) : null;
  const canAct = state.account.role !== "supervisor";
  const action = seat.state === "awaiting_confirmation" && canAct
    ? h("button", { type: "button", class: "primary small verify", onclick: (event) => { event.stopPropagation(); openVerify(seat); } },
      zh.verify)
    : null;
  const notes = [];
  if (seat.state === "submitted") notes.push(`${zh.submittedBy[seat.submit_reason] || ""} ${fmtTime(seat.submitted_at)}`);
  if (shown === "disconnected") notes.push(zh.disconnectedSince(fmtTime(seat.disconnected_at)));
  if (shown === "idle" || (seat.state === "answering" && seat.last_seen_at)) {
    notes.push(zh.lastActivity(Math.floor((serverNow() - Date.parse(seat.last_seen_at)) / 60000)));
  }
  if (seat.own_clock && seat.state !== "submitted") notes.push(zh.ownClock(fmtDuration(seat.own_clock.remaining_ms), seat.own_clock.paused));
  if (seat.focus_lost) notes.push(zh.focusLost(seat.focus_lost));
  if (seat.paper_no > 1) notes.push(zh.paperReplaced);
  if (seat.warnings) notes.push(zh.warningsNote(seat.warnings));
  if (seat.score_void) notes.push(zh.scoreVoid);
  if (seat.make_up_s > 0 && seat.state !== "submitted") notes.push(zh.makeUpOffered(fmtSpan(seat.make_up_s)));
  const fresh = h("div", { class: `seat state-${shown}`, id: cell.id, style: cell.getAttribute("style"),
    dataset: { candidateId: seat.candidate_id, state: shown }, tabindex: 0,
    onclick: () => openSeat(seat.candidate_id) },
    h("div", { class: "seat-top" }, h("span", { class: "seat-no" }, String(seat.seat).padStart(2, "0")),
      h("span", { class: "state-label" }, zh.states[shown] || seat.state_label)),
    h("div", { class: "seat-name" }, seat.name),
    h("div", { class: "seat-ticket" }, seat.ticket),
    progress,
    notes.map((n) => h("div", { class: "seat-note" }, n)),
    action);
  cell.replaceWith(fresh);
}
// Idle times and "last activity" move on without any event.
setInterval(() => { if (state.room) for (const seat of state.seats.values()) renderSeat(seat); }, 15000);

// One candidate: details and what the proctor may do for them.
function openSeat(candidateId) {
  const seat = state.seats.get(candidateId);
  if (!seat) return;
  const canAct = state.account.role !== "supervisor";
  const id = { candidate_id: seat.candidate_id };
  const running = ["answering", "paused", "disconnected"].includes(seat.state);
  const ownPaused = seat.own_clock?.paused && !state.room.clock.paused;
  const close = () => dialog.remove();
  const then = (fn) => () => { close(); fn(); };
  const buttons = canAct && running ? [
    ownPaused
      ? h("button", { type: "button", class: "primary", id: "resume-candidate", onclick: then(() => ask(zh.resumeCandidate,
        [{ name: "reason", label: zh.reasonOptional }], (v) => emit("resume_candidate", { ...id, reason: v.reason }))) }, zh.resumeCandidate)
      : h("button", { type: "button", class: "secondary", id: "pause-candidate", onclick: then(() => ask(zh.pauseCandidate,
        [{ name: "reason", label: zh.reason, required: true }], (v) => emit("pause_candidate", { ...id, reason: v.reason }))) }, zh.pauseCandidate),
    h("button", { type: "button", class: "secondary", id: "extend-candidate", onclick: then(() => ask(zh.extendCandidate, extendFields(),
      (v) => emit("extend", { ...id, minutes: Number(v.minutes), reason: v.reason }))) }, zh.extendCandidate),
    h("button", { type: "button", class: "danger", id: "force-submit", onclick: then(() => ask(zh.forceSubmit,
      [{ name: "reason", label: zh.reason, required: true }], (v) => emit("force_submit", { ...id, reason: v.reason }),
      zh.forceSubmitWarning)) }, zh.forceSubmit),
    h("button", { type: "button", class: "secondary", id: "allow-move", onclick: then(() => ask(zh.allowMove,
      [{ name: "reason", label: zh.reason, required: true }], (v) => emit("allow_move", { ...id, reason: v.reason }),
      zh.allowMoveHint)) }, zh.allowMove),
  ] : [];
  const present = seat.state !== "not_logged_in" && seat.state !== "absent";
  if (canAct && present) {
    buttons.push(h("button", { type: "button", class: "secondary", id: "warn", onclick: then(() => ask(zh.warn,
      [{ name: "what", label: zh.what, required: true }], async (v) => {
        const reply = await emit("warn", { ...id, what: v.what });
        if (reply.may_remove) { // the second warning: offer removal at once (the proctor may still cancel)
          setTimeout(() => ask(zh.remove, [{ name: "what", label: zh.reason, required: true }],
            (r) => emit("remove", { ...id, what: r.what }), `${zh.removeOffered(reply.warnings)}${zh.removeWarning}`), 0);
        }
        return reply;
      })) }, zh.warn));
    if (seat.submit_reason !== "removed" && seat.state !== "awaiting_confirmation") {
      buttons.push(h("button", { type: "button", class: seat.warnings >= 2 ? "danger offered" : "danger", id: "remove",
        onclick: then(() => ask(zh.remove, [{ name: "what", label: zh.reason, required: true }],
          (v) => emit("remove", { ...id, what: v.what }), zh.removeWarning)) }, zh.remove));
    }
    if (!seat.score_void && seat.state !== "awaiting_confirmation") {
      buttons.push(h("button", { type: "button", class: "secondary", id: "void-score", onclick: then(() => ask(zh.voidScore,
        [{ name: "what", label: zh.reason, required: true }], (v) => emit("void_score", { ...id, what: v.what }))) }, zh.voidScore));
    }
  }
  if (canAct && running && seat.make_up_s > 0) { // offered after 换机: the time the failed computer cost
    buttons.unshift(h("button", { type: "button", class: "primary", id: "make-up", onclick: async () => {
      const reply = await emit("make_up", id);
      if (!reply.ok) return (error.textContent = reply.error.message);
      close();
    } }, zh.makeUp(fmtSpan(seat.make_up_s))));
  }
  if (canAct && seat.state === "not_logged_in" && state.room.clock.started_at) {
    buttons.push(h("button", { type: "button", class: "secondary", id: "mark-absent", onclick: async () => {
      const reply = await emit("mark_absent", id);
      if (!reply.ok) return (error.textContent = reply.error.message);
      close();
    } }, zh.markAbsent));
  }
  const error = h("p", { class: "error", role: "alert" });
  const rows = [
    [zh.fields.seat, seat.seat], [zh.fields.name, seat.name], [zh.fields.ticket, seat.ticket],
    [zh.fields.id_number, seat.id_number], [zh.fields.state, zh.states[shownState(seat)] || seat.state_label],
    [zh.fields.loggedIn, fmtTime(seat.logged_in_at)],
    seat.total ? [zh.fields.progress, zh.progress(seat.answered, seat.total)] : null,
    seat.own_clock ? [zh.fields.ownRemaining, fmtDuration(seat.own_clock.remaining_ms)] : null,
  ].filter(Boolean);
  const dialog = h("dialog", { class: "modal", id: "seat-dialog" },
    h("h2", {}, zh.seatTitle(seat.seat, seat.name)),
    seat.warnings >= 2 && seat.submit_reason !== "removed" ? h("p", { class: "error", id: "remove-offered" }, zh.removeOffered(seat.warnings)) : null,
    h("table", { class: "identity" }, h("tbody", {}, rows.map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, String(v)))))),
    error,
    h("div", { class: "actions" }, buttons, h("button", { type: "button", class: "secondary", onclick: close }, zh.close)));
  document.body.append(dialog);
  dialog.showModal();
}

function renderCounts() {
  const el = document.getElementById("counts");
  if (!el) return;
  const counts = { expected: state.seats.size, present: 0 };
  for (const seat of state.seats.values()) {
    const shown = shownState(seat);
    counts[shown] = (counts[shown] || 0) + 1;
    if (seat.state !== "not_logged_in") counts.present += 1;
  }
  mount(el, ...Object.entries(zh.counts).map(([key, label]) =>
    h("div", { class: `count count-${key}` }, h("span", { class: "n", id: `count-${key}` }, String(counts[key] || 0)),
      h("span", { class: "l" }, label))));
}

function renderClock() {
  const el = document.getElementById("clock-panel");
  if (!el || !state.clockBase) return;
  const { clock } = state.clockBase;
  const elapsed = performance.now() - state.clockBase.at;
  const remaining = clock.paused ? clock.remaining_ms : Math.max(0, clock.remaining_ms - elapsed);
  const started = clock.started_at !== null;
  const label = !started ? zh.clockState.notStarted : clock.paused ? zh.clockState.paused
    : remaining > 0 ? zh.clockState.running : zh.clockState.over;
  mount(el,
    h("div", { class: `clock-state ${started ? "on" : ""}`, id: "room-clock-state" }, label),
    h("dl", {},
      h("dt", {}, started ? zh.startedAt : zh.scheduled),
      h("dd", {}, fmtTime(started ? clock.started_at : state.room.session.scheduled_start)),
      h("dt", {}, zh.endsAt), h("dd", {}, started ? fmtTime(clock.deadline) : "—"),
      h("dt", {}, zh.remaining),
      h("dd", { class: "remaining", id: "room-remaining" }, fmtDuration(started ? remaining : state.room.session.duration_s * 1000))));
}
setInterval(renderClock, 500);

function confirmStart() {
  const confirmed = [...state.seats.values()].filter((s) => s.state === "waiting_start").length;
  const waiting = [...state.seats.values()].filter((s) => s.state === "awaiting_confirmation").length;
  const error = h("p", { class: "error", role: "alert" });
  const dialog = h("dialog", { class: "modal", id: "start-dialog" },
    h("h2", {}, zh.startConfirmTitle),
    h("p", {}, zh.startConfirmText(confirmed, waiting)),
    error,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: () => dialog.remove() }, zh.cancel),
      h("button", { type: "button", class: "primary", id: "confirm-start", onclick: () => {
        state.socket.emit("start_room", { room_id: state.room.id }, (reply) => {
          if (!reply.ok) return (error.textContent = reply.error.message);
          dialog.remove();
        });
      } }, zh.startConfirm)));
  document.body.append(dialog);
  dialog.showModal();
}

function openVerify(seat) {
  const error = h("p", { class: "error", role: "alert" });
  const act = (event) => state.socket.emit(event, { candidate_id: seat.candidate_id }, (reply) => {
    if (!reply.ok) return (error.textContent = reply.error.message);
    dialog.remove();
  });
  const dialog = h("dialog", { class: "modal", id: "verify-dialog" },
    h("h2", {}, zh.verifyTitle),
    h("p", { class: "hint" }, zh.verifyHint),
    h("table", { class: "identity" }, h("tbody", {},
      ["seat", "name", "ticket", "id_number"].map((key) =>
        h("tr", {}, h("th", {}, zh.fields[key]), h("td", { dataset: { field: key } }, String(seat[key])))))),
    error,
    h("div", { class: "actions" },
      h("button", { type: "button", class: "secondary", onclick: () => dialog.remove() }, zh.cancel),
      h("button", { type: "button", class: "danger", id: "reject-identity", onclick: () => act("reject_identity") },
        zh.rejectIdentity),
      h("button", { type: "button", class: "primary", id: "confirm-identity", onclick: () => act("confirm_identity") },
        zh.confirmIdentity)));
  document.body.append(dialog);
  dialog.showModal();
}

// ---- start ----
const me = await session();
if (me.account) {
  state.account = me.account;
  connect();
} else {
  showLogin();
}
