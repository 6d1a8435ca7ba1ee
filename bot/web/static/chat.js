// Web chat: pick or create a persona, then chat privately with the bot or in a group room.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const state = { persona: null, chat: "private", lines: {}, ws: null, pending: [], seen: new Set() };
  const STORE = "linggong.persona";

  function chatId(tab) { return tab === "private" ? state.persona.id : tab; }

  function newId() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  }

  async function loadPersonas() {
    const res = await fetch("/api/personas");
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
      b.addEventListener("click", () => enter(p));
      box.append(b);
    }
  }

  let submitRole = "worker";
  for (const b of document.querySelectorAll("#new-persona button[data-role]")) {
    b.addEventListener("click", () => { submitRole = b.dataset.role; });
  }
  $("new-persona").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("new-error").textContent = "";
    const res = await fetch("/api/personas", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: $("new-name").value.trim(), role: submitRole }),
    });
    const body = await res.json();
    if (!res.ok) { $("new-error").textContent = body.error || "出错了"; return; }
    $("new-name").value = "";
    enter(body);
  });

  function enter(p) {
    state.persona = p;
    state.lines = {};
    state.seen = new Set();
    localStorage.setItem(STORE, p.id);
    $("me").textContent = p.name + "（" + (p.role === "employer" ? "招人" : "找活") + "）";
    $("pick").hidden = true;
    $("chat").hidden = false;
    selectTab("private");
    connect();
  }

  $("switch").addEventListener("click", () => {
    if (state.ws) state.ws.close();
    state.ws = null;
    state.persona = null;
    localStorage.removeItem(STORE);
    $("chat").hidden = true;
    $("pick").hidden = false;
    loadPersonas();
  });

  function connect() {
    const proto = location.protocol === "https:" ? "wss://" : "ws://";
    const ws = new WebSocket(proto + location.host + "/ws");
    state.ws = ws;
    $("status").textContent = "连接中…";
    ws.addEventListener("open", () => {
      ws.send(JSON.stringify({ type: "hello", persona: state.persona.id }));
    });
    ws.addEventListener("message", (ev) => {
      const m = JSON.parse(ev.data);
      if (m.type === "history") {
        $("status").textContent = "";
        for (const [chat, lines] of Object.entries(m.chats)) for (const l of lines) addLine(l);
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
      }
    });
    ws.addEventListener("close", () => {
      if (state.ws !== ws || !state.persona) return;
      $("status").textContent = "连接断开，正在重连…";
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
    $("text").placeholder = tab === "private" ? "在这里打字…" : "在群里说话，@" + window.LINGGONG.botName + " 叫我";
    render();
  }
  for (const b of document.querySelectorAll(".tab")) b.addEventListener("click", () => selectTab(b.dataset.chat));

  function render() {
    if (!state.persona) return;
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
      linkify(bubble, l.text);
      row.append(who, bubble);
      log.append(row);
    }
    log.scrollTop = log.scrollHeight;
    renderChoices(lines);
  }

  // Text with its links made clickable (contract PDFs); everything else stays plain text.
  function linkify(el, text) {
    const parts = text.split(/(https?:\/\/[^\s，。]+)/);
    for (const part of parts) {
      if (/^https?:\/\//.test(part)) {
        const a = document.createElement("a");
        a.href = part;
        a.target = "_blank";
        a.rel = "noopener";
        a.textContent = part.length > 40 ? "点这里看合同全文" : part;
        el.append(a);
      } else if (part) {
        el.append(document.createTextNode(part));
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
    const payload = { type: "say", chat: chatId(state.chat), text: text, id: newId() };
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

  loadPersonas().then(async () => {
    const saved = localStorage.getItem(STORE);
    if (!saved) return;
    const res = await fetch("/api/personas");
    const p = (await res.json()).find((x) => x.id === saved);
    if (p) enter(p);
  });
})();
