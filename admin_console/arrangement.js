// A sitting's rooms and room arrangement (考场编排): the site and chief examiner, rooms with their two
// proctors, the automatic arrangement or moves by hand on each room's seat grid, and the printouts.
import { post } from "/static/js/api.js";
import { h, mount } from "/static/js/dom.js";
import * as staff from "/static/js/staff.js";
import { zh } from "./i18n.js";

const z = zh.arrange;

export async function showArrangement(app, sittingId, back) {
  const view = { picked: null, editingRoom: null, notice: null };
  const base = `/api/admin/sittings/${sittingId}`;

  async function load(notice) {
    const reply = await staff.getJSON(`${base}/setup`);
    if (!reply.ok) return mount(app, h("p", { class: "error" }, reply.error.message));
    view.notice = notice ?? null;
    draw(reply.setup);
  }

  async function act(path, body, after) {
    const reply = await post(`${base}/${path}`, body);
    if (!reply.ok) return showError(reply.error?.message || z.failed);
    view.picked = null;
    view.editingRoom = null;
    view.notice = after ? after(reply) : null;
    draw(reply.setup);
  }

  function showError(message) {
    const box = document.getElementById("arrange-message");
    if (box) mount(box, h("p", { class: "error", role: "alert" }, message));
  }

  function draw(s) {
    const locked = s.locked > 0;
    const seatedCount = s.rooms.reduce((n, r) => n + r.seated.length, 0);
    mount(app,
      h("div", { class: "row-actions" }, h("button", { type: "button", class: "secondary", id: "back-to-sittings", onclick: back }, z.back)),
      h("div", { class: "card arrangement" },
        h("h2", {}, s.name),
        locked ? h("p", { class: "warning", id: "arrange-locked" }, z.locked(s.locked)) : null,
        h("div", { id: "arrange-message", role: "status" },
          view.notice ? h("p", { class: "ok" }, view.notice) : null),
        s.warnings.length ? h("div", { class: "warning warnings", id: "arrange-warnings" }, h("strong", {}, z.warnings),
          h("ul", {}, s.warnings.map((w) => h("li", {}, w)))) : h("p", { class: "ok", id: "arrange-ready" }, z.ready),
        siteForm(s, locked),
        roomsSection(s, locked),
        seatingSection(s, locked, seatedCount),
        printSection(s)));
  }

  function siteForm(s, locked) {
    const site = h("input", { id: "site-name", value: s.site, size: 36, placeholder: z.sitePlaceholder, disabled: locked });
    const chief = h("select", { id: "site-chief", disabled: locked },
      h("option", { value: "" }, z.noChief),
      s.staff.chief.map((a) => h("option", { value: a.id, selected: a.id === s.chief_id }, `${a.name}（${a.username}）`)));
    return h("section", { class: "arrange-part" }, h("h3", {}, z.siteTitle),
      h("div", { class: "row-actions" },
        h("label", {}, `${z.site}：`, site), h("label", {}, `${z.chief}：`, chief),
        h("button", { type: "button", class: "secondary", id: "save-site", disabled: locked, onclick: () =>
          act("site", { site: site.value, chief_id: chief.value ? Number(chief.value) : null }, () => z.siteSaved) }, z.save)));
  }

  function roomsSection(s, locked) {
    const name = (p) => p ? p.name : "—";
    const rows = s.rooms.map((r) => {
      const [first, second] = r.proctors;
      return h("tr", { dataset: { room: r.id } },
        h("td", { class: "n" }, r.number ?? ""), h("td", {}, r.name), h("td", {}, r.location),
        h("td", { class: "n" }, `${r.rows} × ${r.cols}`), h("td", { class: "n seated-count" }, r.seated.length),
        h("td", {}, name(first)), h("td", {}, name(second)),
        h("td", {}, locked ? null : [
          h("button", { type: "button", class: "link edit-room", onclick: () => { view.editingRoom = r.id; draw(s); } }, z.edit),
          " ",
          h("button", { type: "button", class: "link remove-room", onclick: () => act(`rooms/${r.id}/remove`, {}) }, z.remove)]));
    });
    return h("section", { class: "arrange-part" }, h("h3", {}, z.roomsTitle),
      h("p", { class: "hint" }, z.roomsHint(s.room_limit)),
      h("table", { class: "grid", id: "room-table" },
        h("thead", {}, h("tr", {}, z.roomColumns.map((c, i) => h("th", { class: [0, 3, 4].includes(i) ? "n" : "" }, c)))),
        h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 8, class: "hint" }, z.noRooms)))),
      locked ? null : roomForm(s));
  }

  function roomForm(s) {
    const editing = s.rooms.find((r) => r.id === view.editingRoom);
    const next = s.rooms.reduce((n, r) => Math.max(n, r.number || 0), 0) + 1;
    const proctorSelect = (id, chosen) => h("select", { id },
      h("option", { value: "" }, z.nobody),
      s.staff.proctor.map((a) => h("option", { value: a.id, selected: a.id === chosen }, `${a.name}（${a.username}）`)));
    const field = (label, control) => h("label", { class: "field" }, h("span", {}, label), control);
    const nameInput = h("input", { id: "room-name", value: editing ? editing.name : `第${String(next).padStart(2, "0")}考场`, required: true });
    const location = h("input", { id: "room-location", value: editing ? editing.location : "", placeholder: z.locationPlaceholder });
    const rows = h("input", { id: "room-rows", type: "number", min: 1, max: 20, value: editing ? editing.rows : 5, required: true });
    const cols = h("input", { id: "room-cols", type: "number", min: 1, max: 20, value: editing ? editing.cols : 6, required: true });
    const first = proctorSelect("room-proctor-1", editing?.proctors[0]?.id);
    const second = proctorSelect("room-proctor-2", editing?.proctors[1]?.id);
    const size = h("p", { class: "hint", id: "room-size" });
    const showSize = () => {
      const seats = Number(rows.value) * Number(cols.value);
      size.className = seats > s.room_limit ? "warning" : "hint";
      size.textContent = z.size(seats, s.room_limit);
    };
    rows.oninput = showSize;
    cols.oninput = showSize;
    showSize();
    const form = h("form", { id: "room-form", class: "room-form", onsubmit: (event) => {
      event.preventDefault();
      const body = { name: nameInput.value, location: location.value, rows: Number(rows.value), cols: Number(cols.value),
        proctors: [first.value, second.value].filter(Boolean).map(Number) };
      act(editing ? `rooms/${editing.id}` : "rooms", body, () => (editing ? z.roomChanged : z.roomAdded)(body.name));
    } },
    h("h4", {}, editing ? z.editRoom(editing.name) : z.addRoom),
    h("div", { class: "form-grid" }, field(z.roomName, nameInput), field(z.location, location), field(z.rows, rows),
      field(z.cols, cols), field(z.first, first), field(z.second, second)),
    size,
    h("div", { class: "row-actions" },
      h("button", { type: "submit", class: "primary", id: "save-room" }, editing ? z.saveRoom : z.addRoomButton),
      editing ? h("button", { type: "button", class: "secondary", onclick: () => { view.editingRoom = null; draw(s); } }, zh.cancel) : null));
    return form;
  }

  function seatingSection(s, locked, seatedCount) {
    const total = seatedCount + s.unseated.length;
    const picked = view.picked;
    const pick = (person) => {
      if (locked) return;
      view.picked = picked && picked.registrant_id === person.registrant_id ? null : person;
      draw(s);
    };
    const seatTo = (room, seatNo) => {
      if (!picked || locked) return;
      act("seats", { registrant_id: picked.registrant_id, room_id: room.id, seat_no: seatNo }, (reply) =>
        z.moved(reply.new_tickets.map((t) => `${t.name} ${t.ticket}`).join("、")));
    };
    const grids = s.rooms.map((room) => {
      const bySeat = new Map(room.seated.map((p) => [p.seat_no, p]));
      const cells = [];
      for (let row = 1; row <= room.rows; row++) {
        for (let col = 1; col <= room.cols; col++) {
          const seatNo = (row - 1) * room.cols + col;
          const person = bySeat.get(seatNo);
          const chosen = person && picked?.registrant_id === person.registrant_id;
          cells.push(h("button", { type: "button", class: `seat${person ? " taken" : ""}${chosen ? " picked" : ""}`,
            dataset: { seat: seatNo }, title: person ? `${person.name} ${person.ticket}` : z.freeSeat,
            onclick: () => (person && (!picked || chosen) ? pick(person) : seatTo(room, seatNo)) },
          h("span", { class: "seat-no" }, seatNo),
          person ? [h("span", { class: "seat-name" }, person.name), h("span", { class: "seat-unit" }, person.work_unit || "—")] : null));
        }
      }
      return h("div", { class: "room-seats", dataset: { room: room.id } },
        h("h4", {}, `${room.name}　${z.seatedOf(room.seated.length, room.rows * room.cols)}`),
        h("div", { class: "podium" }, z.front),
        h("div", { class: "seat-grid", style: `grid-template-columns: repeat(${room.cols}, minmax(5.5rem, 1fr))` }, cells));
    });
    return h("section", { class: "arrange-part" }, h("h3", {}, z.seatingTitle),
      h("p", { id: "arrange-summary" }, z.summary(total, seatedCount, s.unseated.length, s.neighbours)),
      locked ? null : h("div", { class: "row-actions" },
        h("button", { type: "button", class: "primary", id: "auto-arrange", disabled: !s.unseated.length || !s.rooms.length,
          onclick: () => act("arrange", {}, (reply) => z.arranged(reply.seated, reply.neighbours)) }, z.auto),
        h("button", { type: "button", class: "secondary", id: "clear-arrangement", disabled: !seatedCount,
          onclick: () => window.confirm(z.clearConfirm) && act("seats/clear", {}, (reply) => z.cleared(reply.removed)) }, z.clear),
        picked ? h("span", { class: "picked-hint", id: "picked-hint" }, z.pickedHint(picked.name)) : h("span", { class: "hint" }, z.byHand)),
      s.unseated.length ? h("div", { class: "unseated", id: "unseated" }, h("h4", {}, z.unseated(s.unseated.length)),
        h("div", { class: "chips" }, s.unseated.map((p) => h("button", { type: "button",
          class: `chip${picked?.registrant_id === p.registrant_id ? " picked" : ""}`, onclick: () => pick(p) },
        `${p.name}${p.work_unit ? `（${p.work_unit}）` : ""}`)))) : null,
      grids);
  }

  function printSection(s) {
    const link = (path, label, id) => h("a", { href: `${base}/${path}`, target: "_blank", class: "button secondary", id }, label);
    return h("section", { class: "arrange-part" }, h("h3", {}, z.printTitle),
      h("p", { class: "hint" }, z.printHint),
      h("div", { class: "row-actions" },
        link("tickets.pdf", z.allTickets, "print-tickets"), link("door-lists.pdf", z.doorLists, "print-door-lists"),
        link("seat-labels.pdf", z.seatLabels, "print-seat-labels")),
      s.rooms.length ? h("ul", { class: "print-rooms" }, s.rooms.map((r) => h("li", {}, `${r.name}：`,
        h("a", { href: `${base}/tickets.pdf?room=${r.id}`, target: "_blank" }, z.tickets), "　",
        h("a", { href: `${base}/door-lists.pdf?room=${r.id}`, target: "_blank" }, z.doorList), "　",
        h("a", { href: `${base}/seat-labels.pdf?room=${r.id}`, target: "_blank" }, z.seatLabels)))) : null);
  }

  await load();
}
