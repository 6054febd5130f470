// The WebSocket to the server: reconnects with back-off, shows its state, and sends
// at most one configure per animation frame (the newest wins).

export class LiveSocket {
  // closeCodes: the catalog's WebSocket close codes ({try_later}: the server is full).
  // preamble(): the messages a new connection sends first (a class's join or resume).
  constructor({ closeCodes, onMessage, onState, preamble = () => [] }) {
    this.closeCodes = closeCodes;
    this.preamble = preamble;
    this.onMessage = onMessage;
    this.onState = onState;
    this.ws = null;
    this.delay = 500;
    this.queued = null; // the newest configure, sent once per frame
    this.controls = []; // play/pause/step/reset, in order
    this.flushScheduled = false;
    this.lastConfigure = null;
    this.stopped = false;
    this.uploads = []; // dataset messages: a new session gets them before any configure
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/ws`);
    this.ws = ws;
    this.onState("connecting");
    ws.onopen = () => {
      this.delay = 500;
      this.onState("open");
      // A new session knows nothing: its class, the uploads, then configure it again.
      for (const message of this.preamble()) ws.send(JSON.stringify(message));
      for (const message of this.uploads) ws.send(JSON.stringify(message));
      if (this.lastConfigure && !this.queued) this.queued = this.lastConfigure;
      this.schedule();
    };
    ws.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.onMessage(message);
    };
    ws.onclose = (event) => {
      this.ws = null;
      if (this.stopped) return;
      if (event.code === this.closeCodes.try_later) {
        this.onState("full", event.reason);
        this.retry(15000);
        return;
      }
      this.onState("closed", event.reason);
      this.retry(this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    };
  }

  retry(ms) {
    if (this.stopped) return;
    setTimeout(() => this.connect(), ms);
  }

  // For good (compare mode's side B when compare closes): no reconnect.
  close() {
    this.stopped = true;
    this.queued = null;
    this.controls = [];
    if (this.ws) this.ws.close(1000);
  }

  get open() {
    return this.ws !== null && this.ws.readyState === WebSocket.OPEN;
  }

  // `message`: more fields of the configure message (a descend `sweep`).
  configure(lab, config, options, message = {}) {
    this.queued = { type: "configure", lab, config, options, ...message };
    this.lastConfigure = this.queued;
    this.controls = [];
    // Leading edge: a change after a quiet moment goes out at once; during a drag the
    // newest one goes out once per animation frame.
    const now = performance.now();
    if (this.open && !this.flushScheduled && now - (this.sentAt || 0) > 50) {
      this.ws.send(JSON.stringify(this.queued));
      this.queued = null;
      this.sentAt = now;
      return;
    }
    this.schedule();
  }

  send(message) {
    this.controls.push(message);
    this.schedule();
  }

  // At once and in order with the configures already sent (a class message); dropped
  // while disconnected (the preamble says what matters again on reconnect).
  sendNow(message) {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  // The last configuration once more (the server answers with its picture again).
  resend() {
    if (!this.lastConfigure) return;
    this.queued = this.lastConfigure;
    this.schedule();
  }

  // Forget the configuration (a follower's page has none of its own).
  forget() {
    this.queued = null;
    this.lastConfigure = null;
    this.controls = [];
  }

  // A dataset upload goes out at once (before any later configure) and again to every
  // new session after a reconnect; the server keeps `keep` uploads a session.
  upload(message, keep = 3) {
    this.uploads = [...this.uploads.filter((m) => m.csv !== message.csv), message].slice(-keep);
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  schedule() {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    requestAnimationFrame(() => {
      this.flushScheduled = false;
      if (!this.open) return;
      if (this.queued) {
        this.ws.send(JSON.stringify(this.queued));
        this.queued = null;
        this.sentAt = performance.now();
      }
      for (const message of this.controls.splice(0)) this.ws.send(JSON.stringify(message));
    });
  }
}
