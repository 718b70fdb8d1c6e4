// The countdown shows the server's remaining time. The browser's own clock is never trusted: the
// server sends how many milliseconds remain, and this counts them down on the monotonic clock.
export class Countdown {
  constructor(onTick) {
    this.onTick = onTick;
    this.deadline = null; // performance.now() value at which time runs out
    this.paused = false;
    this.remainingAtPause = 0;
    this.timer = setInterval(() => this.tick(), 250);
  }

  sync(clock) {
    this.paused = clock.paused;
    this.started = clock.started_at !== null;
    this.remainingAtPause = clock.remaining_ms;
    this.deadline = performance.now() + clock.remaining_ms;
    this.tick();
  }

  remainingMs() {
    if (this.deadline === null) return null;
    if (this.paused) return this.remainingAtPause;
    return Math.max(0, this.deadline - performance.now());
  }

  tick() {
    this.onTick(this.remainingMs(), this);
  }
}

export function formatDuration(ms) {
  const total = Math.ceil(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return [h, m, s].map((v) => String(v).padStart(2, "0")).join(":");
}

// Times of day are shown in the exam site's zone (the server says which), whatever the PC is set to.
export function formatClockTime(iso, timeZone) {
  return new Date(iso).toLocaleTimeString("zh-CN", { hour12: false, timeZone });
}
