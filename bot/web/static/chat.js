// Web chat: log in (or, in demo mode, pick a persona), then chat privately with the bot or in a
// group room. The server decides who is logged in (an HttpOnly session cookie); nothing here
// remembers a person between visits.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const body = document.body.dataset;
  const CSRF = document.querySelector('meta[name="csrf-token"]').content;
  const KIOSK = body.kiosk === "1";
  const DEMO = body.mode === "demo";
  const OWN = new Set([location.origin, originOf(body.publicUrl)]);
  const state = { persona: null, chat: "private", lines: {}, rooms: new Set(), ws: null, pending: [], seen: new Set() };

  function originOf(url) {
    try { return new URL(url).origin; } catch (e) { return ""; }
  }

  function chatId(tab) { return tab === "private" ? state.persona.id : tab; }

  function newId() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  async function post(url, data) {
    const res = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: JSON.stringify(data || {}),
    });
    let answer = {};
    try { answer = await res.json(); } catch (e) { answer = {}; }
    return { ok: res.ok, body: answer };
  }

  function show(screen) {
    for (const id of ["pick", "login", "chat"]) if ($(id)) $(id).hidden = id !== screen;
  }

  // -- demo personas ------------------------------------------------------------------------
  async function loadPersonas() {
    const res = await fetch("/api/personas", { credentials: "same-origin" });
    const list = await res.json();
    const box = $("personas");
    box.textContent = "";
    for (const p of list) {
      const b = document.createElement("button");
      b.className = "persona";
      b.type = "button";
      b.dataset.id = p.id;
      const name = document.createElement("span");
      name.textContent = p.name;
      const badge = document.createElement("span");
      badge.className = "badge " + p.role;
      badge.textContent = p.role_label;
      b.append(name, badge);
      b.addEventListener("click", async () => {
        const r = await post("/api/personas/" + encodeURIComponent(p.id) + "/enter");
        if (r.ok) enter(r.body);
      });
      box.append(b);
    }
  }

  if (DEMO) {
    let submitRole = "worker";
    for (const b of document.querySelectorAll("#new-persona button[data-role]")) {
      b.addEventListener("click", () => { submitRole = b.dataset.role; });
    }
    $("new-persona").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("new-error").textContent = "";
      const r = await post("/api/personas", { name: $("new-name").value.trim(), role: submitRole });
      if (!r.ok) { $("new-error").textContent = r.body.error || "出错了"; return; }
      $("new-name").value = "";
      enter(r.body);
    });
  }

  // -- login by phone + SMS code ------------------------------------------------------------
  if ($("phone-login")) {
    let wait = 0;
    const tick = () => {
      const b = $("get-code");
      if (wait > 0) { b.disabled = true; b.textContent = wait + " 秒后可重新获取"; wait -= 1; setTimeout(tick, 1000); }
      else { b.disabled = false; b.textContent = "获取验证码"; }
    };
    $("get-code").addEventListener("click", async () => {
      $("login-error").textContent = "";
      const r = await post("/api/login/code", { phone: $("phone").value });
      if (!r.ok) { $("login-error").textContent = r.body.error || "出错了"; return; }
      $("login-info").textContent = r.body.text;
      wait = r.body.resend_after || 60;
      tick();
      $("code").focus();
    });
    $("phone-login").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      $("login-error").textContent = "";
      const r = await post("/api/login/verify", { phone: $("phone").value, code: $("code").value });
      if (!r.ok) { $("login-error").textContent = r.body.error || "出错了"; return; }
      $("phone").value = "";
      $("code").value = "";
      $("login-info").textContent = "";
      enter(r.body);
    });
  }

  // -- kiosk: scan the 公众号 QR code ---------------------------------------------------------
  let qrTimer = null;
  let qrTicket = null;
  async function startQr() {
    if (!$("qr-login") || state.persona) return;
    if (qrTimer) clearTimeout(qrTimer);
    $("qr-confirm").hidden = true;
    $("qr-image").hidden = false;
    const r = await post("/api/login/qr");
    if (!r.ok) { $("qr-info").textContent = r.body.error || "出错了"; $("qr-image").hidden = true; return; }
    $("qr-image").src = r.body.image;
    $("qr-info").textContent = "";
    const ticket = r.body.ticket;
    qrTicket = ticket;
    const until = Date.now() + r.body.expires_in * 1000;
    const poll = async () => {
      if (state.persona || qrTicket !== ticket) return;
      if (Date.now() > until) { startQr(); return; }
      const res = await fetch("/api/login/qr/" + ticket, { credentials: "same-origin" });
      const b = await res.json().catch(() => ({}));
      if (res.ok && b.scanned) { // someone scanned: the visitor confirms it was them
        $("qr-name").textContent = b.scanned;
        $("qr-image").hidden = true;
        $("qr-confirm").hidden = false;
        return;
      }
      if (res.status === 410 || res.status === 404) { startQr(); return; }
      qrTimer = setTimeout(poll, 2000);
    };
    qrTimer = setTimeout(poll, 2000);
  }
  if ($("qr-login")) {
    $("qr-yes").addEventListener("click", async () => {
      const r = await post("/api/login/qr/" + qrTicket + "/confirm");
      if (r.ok) enter(r.body); else startQr();
    });
    $("qr-no").addEventListener("click", async () => {
      await post("/api/login/qr/" + qrTicket + "/reject");
      startQr();
    });
  }

  // -- in and out ---------------------------------------------------------------------------
  function enter(p) {
    if (qrTimer) clearTimeout(qrTimer);
    state.persona = p;
    state.lines = {};
    state.seen = new Set();
    state.rooms = new Set();
    $("me").textContent = p.name + (DEMO ? "（" + (p.role === "employer" ? "招人" : "找活") + "）" : "");
    show("chat");
    selectTab("private");
    connect();
    kioskTouch();
  }

  function leave() {
    const ws = state.ws;
    state.ws = null;
    state.persona = null;
    state.pending = [];
    state.lines = {};
    if (ws) ws.close();
    $("log").textContent = "";
    $("choices").textContent = "";
    $("text").value = "";
    if (KIOSK) { location.replace("/"); return; } // a clean page for the next visitor
    if (DEMO) { show("pick"); loadPersonas(); } else { show("login"); }
  }

  $("switch").addEventListener("click", async () => {
    await post("/api/logout");
    leave();
  });

  // Kiosk: after a while without a touch, log the visitor out and clear the screen.
  let idleTimer = null;
  function kioskTouch() {
    if (!KIOSK || !state.persona) return;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(async () => { await post("/api/logout"); leave(); }, Number(body.kioskIdle) * 1000);
  }
  for (const ev of ["keydown", "pointerdown", "touchstart"]) document.addEventListener(ev, kioskTouch, { passive: true });

  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(proto + location.host + "/ws");
    let opened = false;
    state.ws = ws;
    $("status").textContent = "连接中…";
    ws.addEventListener("open", () => {
      opened = true;
      ws.send(JSON.stringify({ type: "hello" }));
    });
    ws.addEventListener("message", (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === "history") {
        $("status").textContent = "";
        state.rooms = new Set(m.rooms || []);
        for (const lines of Object.values(m.chats)) for (const l of lines) addLine(l);
        render();
        // Resend anything typed while disconnected; the server drops repeats by id.
        for (const p of state.pending) ws.send(JSON.stringify(p));
      } else if (m.type === "line") {
        addLine(m.line);
        render();
      } else if (m.type === "ack") {
        state.pending = state.pending.filter((p) => p.id !== m.id);
      } else if (m.type === "error") {
        $("status").textContent = m.text;
      } else if (m.type === "bye") {
        leave();
      }
    });
    ws.addEventListener("close", async () => {
      if (state.ws !== ws || !state.persona) return;
      const me = await (await fetch("/api/me", { credentials: "same-origin" })).json().catch(() => ({}));
      if (!me.persona) { leave(); return; } // logged out (elsewhere, or idle too long)
      $("status").textContent = opened ? "连接断开，正在重连…" : "连不上，正在重试…";
      setTimeout(() => { if (state.ws === ws && state.persona) connect(); }, 1500);
    });
  }

  function addLine(l) {
    if (state.seen.has(l.id)) return;
    state.seen.add(l.id);
    (state.lines[l.chat] = state.lines[l.chat] || []).push(l);
  }

  function selectTab(tab) {
    state.chat = tab;
    for (const b of document.querySelectorAll(".tab")) b.classList.toggle("active", b.dataset.chat === tab);
    $("text").placeholder = tab === "private" ? "在这里打字…" : "在群里说话，@" + body.botName + " 叫我";
    render();
  }
  for (const b of document.querySelectorAll(".tab")) b.addEventListener("click", () => selectTab(b.dataset.chat));
  $("join-room").addEventListener("click", () => {
    if (state.ws) state.ws.send(JSON.stringify({ type: "join", room: state.chat }));
  });

  function render() {
    if (!state.persona) return;
    const isRoom = state.chat !== "private";
    const member = !isRoom || state.rooms.has(state.chat);
    $("join").hidden = member;
    $("composer").hidden = !member;
    const log = $("log");
    log.textContent = "";
    const lines = (state.lines[chatId(state.chat)] || []).slice().sort((a, b) => a.id - b.id);
    for (const l of lines) {
      const row = document.createElement("div");
      row.className = "msg" + (l.bot ? " bot" : "") + (l.sender === state.persona.id ? " mine" : "");
      row.dataset.id = l.id;
      const who = document.createElement("div");
      who.className = "who";
      who.textContent = l.name;
      const bubble = document.createElement("div");
      bubble.className = "bubble";
      linkify(bubble, l.text, l.bot);
      row.append(who, bubble);
      log.append(row);
    }
    log.scrollTop = log.scrollHeight;
    renderChoices(lines);
  }

  // Only the service's own links become links (contract PDFs, with a label); any other address
  // stays plain text with its real host named, so nobody can dress up a lure as ours.
  function linkify(el, text, fromBot) {
    const parts = text.split(/(https?:\/\/[^\s，。）)」]+)/);
    for (const part of parts) {
      if (!/^https?:\/\//.test(part)) { if (part) el.append(document.createTextNode(part)); continue; }
      let url = null;
      try { url = new URL(part); } catch (e) { url = null; }
      if (fromBot && url && OWN.has(url.origin) && !url.username && !url.password) {
        const a = document.createElement("a");
        a.href = url.href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.textContent = /^\/contracts\/\d+\/[A-Za-z0-9_-]+\.pdf$/.test(url.pathname) ? "点这里看合同全文" : url.href;
        el.append(a);
      } else {
        const span = document.createElement("span");
        span.className = "foreign-url";
        span.textContent = part + (url ? "（外部网址：" + url.hostname + "）" : "");
        el.append(span);
      }
    }
  }

  // Numbered choices in the bot's last message become big buttons (kiosk-friendly).
  function renderChoices(lines) {
    const box = $("choices");
    box.textContent = "";
    const last = lines[lines.length - 1];
    if (!last || !last.bot || state.chat !== "private") return;
    const seen = new Set();
    const add = (n, label) => {
      if (seen.has(n)) return;
      seen.add(n);
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = n + " " + label;
      b.addEventListener("click", () => send(n));
      box.append(b);
    };
    for (const raw of last.text.split("\n")) {
      const m = raw.match(/^\s*([0-9])\s+(.{1,16})$/);
      if (m) add(m[1], m[2]);
    }
    // Inline choices: "回 1 同意并开始，回 2 不同意"
    for (const m of last.text.matchAll(/回\s*([0-9])\s*[（(]?([^，,。；;）)\n回]{1,8})/g)) add(m[1], m[2].trim());
  }

  function send(text) {
    if (!text || !state.ws) return;
    if (KIOSK && state.chat === "private" && /^(结束|退出|结束使用|退出登录)$/.test(String(text).trim())) {
      post("/api/logout").then(leave);
      return;
    }
    const payload = { type: "say", chat: chatId(state.chat), text: String(text), id: newId() };
    state.pending.push(payload);
    if (state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(payload));
  }

  $("composer").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = $("text").value;
    if (!t.trim()) return;
    $("text").value = "";
    send(t);
  });

  // Who is here is the server's answer, never something this browser kept.
  (async () => {
    const me = await (await fetch("/api/me", { credentials: "same-origin" })).json();
    if (me.persona) { enter(me.persona); return; }
    if (DEMO) { show("pick"); loadPersonas(); } else { show("login"); startQr(); }
  })();
})();
