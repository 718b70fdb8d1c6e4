// Answers not yet acknowledged by the server, kept in this browser's storage so that a reload, a
// dropped network or a closed tab never loses them. Every change gets the next sequence number of
// the attempt; the server applies changes idempotently by that number.
export class Journal {
  constructor(ticket) {
    this.key = `jikao.journal.${ticket}`;
    const saved = JSON.parse(localStorage.getItem(this.key) || "null");
    this.seq = saved?.seq || 0;
    this.pending = saved?.pending || {};
  }

  persist() {
    localStorage.setItem(this.key, JSON.stringify({ seq: this.seq, pending: this.pending }));
  }

  // The server's highest stored seq: never reuse a number it has already seen.
  catchUp(lastSeq) {
    this.seq = Math.max(this.seq, lastSeq || 0);
    this.persist();
  }

  record(itemId, response) {
    this.seq += 1;
    this.pending[itemId] = { response, seq: this.seq };
    this.persist();
    return this.seq;
  }

  acknowledge(itemId, seq) {
    const entry = this.pending[itemId];
    if (entry && entry.seq <= seq) {
      delete this.pending[itemId];
      this.persist();
    }
  }

  // Forget changes to items outside ``itemIds`` (the paper was replaced), keeping the sequence numbers.
  keepOnly(itemIds) {
    for (const itemId of Object.keys(this.pending)) {
      if (!itemIds.has(Number(itemId))) delete this.pending[itemId];
    }
    this.persist();
  }

  entries() {
    return Object.entries(this.pending).map(([itemId, e]) => ({ itemId: Number(itemId), ...e }));
  }

  get size() {
    return Object.keys(this.pending).length;
  }

  clear() {
    localStorage.removeItem(this.key);
    this.pending = {};
  }
}
