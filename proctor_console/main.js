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
  socket.on("room_update", (room) => renderRoom(room));
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
  renderTopbar();
  const grid = h("div", { class: "seat-grid", id: "seat-grid",
    style: `grid-template-columns: repeat(${room.cols}, minmax(9rem, 1fr))` });
  const started = room.clock.started_at !== null;
  const startButton = h("button", { type: "button", class: "primary big", id: "start-room", disabled: started,
    onclick: () => confirmStart() }, started ? zh.started : zh.startRoom);
  mount(app,
    h("section", { class: "room-head" },
      h("div", { class: "clock-panel", id: "clock-panel" }),
      h("div", { class: "counts", id: "counts" }),
      startButton),
    h("p", { class: "legend-line" }, zh.seatLegend),
    h("div", { class: "podium" }, zh.podium),
    grid);
  for (let r = 1; r <= room.rows; r++) {
    for (let c = 1; c <= room.cols; c++) {
      grid.append(h("div", { class: "seat empty", id: `cell-${r}-${c}`, style: `grid-row:${r};grid-column:${c}` }));
    }
  }
  for (const seat of state.seats.values()) renderSeat(seat);
  renderCounts();
  renderClock();
}

function renderSeat(seat) {
  const cell = document.getElementById(`cell-${seat.row}-${seat.col}`);
  if (!cell) return;
  const progress = seat.total ? h("div", { class: "progress" },
    h("div", { class: "bar", style: `width:${Math.round((100 * seat.answered) / seat.total)}%` }),
    h("span", {}, zh.progress(seat.answered, seat.total))) : null;
  const canAct = state.account.role !== "supervisor";
  const action = seat.state === "awaiting_confirmation" && canAct
    ? h("button", { type: "button", class: "primary small verify", onclick: () => openVerify(seat) }, zh.verify)
    : null;
  const extra = seat.state === "submitted" ? h("div", { class: "seat-note" },
    `${zh.submittedBy[seat.submit_reason] || ""} ${fmtTime(seat.submitted_at)}`) : null;
  const fresh = h("div", { class: `seat state-${seat.state}`, id: cell.id, style: cell.getAttribute("style"),
    dataset: { candidateId: seat.candidate_id, state: seat.state } },
    h("div", { class: "seat-top" }, h("span", { class: "seat-no" }, String(seat.seat).padStart(2, "0")),
      h("span", { class: "state-label" }, seat.state_label)),
    h("div", { class: "seat-name" }, seat.name),
    h("div", { class: "seat-ticket" }, seat.ticket),
    progress, extra,
    seat.paper_no > 1 ? h("div", { class: "seat-note replaced" }, zh.paperReplaced) : null,
    action);
  cell.replaceWith(fresh);
}

function renderCounts() {
  const el = document.getElementById("counts");
  if (!el) return;
  const counts = { expected: state.seats.size };
  for (const seat of state.seats.values()) counts[seat.state] = (counts[seat.state] || 0) + 1;
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
