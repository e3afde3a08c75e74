/* Stele player: pairs with cityapp, then plays its manifest (items, alerts) on a portrait
   touch screen. Talks only to the device API (/api/device/v1, see docs/kiosks.md); keeps the
   last manifest in localStorage and media in Cache Storage (via sw.js), so it keeps playing
   while the server is down. No framework, no inline code (the app's CSP forbids it), and all
   text from the server goes through textContent, never innerHTML. */
"use strict";

(function () {
  const API = "/api/device/v1";
  const PLAYER_VERSION = "1.0.0";
  const MEDIA_CACHE = "stele-media-v1";
  const KEYS = {
    secret: "stele.secret",
    previousSecret: "stele.previous_secret",
    deviceId: "stele.device_id",
    pairing: "stele.pairing",
    manifest: "stele.manifest",
    etag: "stele.etag",
    lastOk: "stele.last_ok",
    rejections: "stele.rejections",
    commands: "stele.commands",
    pendingResults: "stele.pending_results",
    votes: "stele.votes",
    clockOffset: "stele.clock_offset",
  };
  const DEFAULT_POLL = { manifest_s: 60, heartbeat_s: 30, jitter_pct: 20 };
  const LEVEL_RANK = { critical: 4, high: 3, medium: 2, info: 1 };
  const LEVEL_LABEL = { critical: "Gefahr", high: "Warnung", medium: "Hinweis", info: "Information" };
  const KIND_LABEL = { news: "Nachrichten", announcement: "Bekanntmachung", poll: "Umfrage" };
  // 401 means "unpaired" only after this many rejections spread over this long: one flaky
  // proxy or a server restored from an old backup must not wipe a stele's pairing.
  const UNPAIR_REJECTIONS = 3;
  const UNPAIR_SPAN_MS = 10 * 60 * 1000;
  const REQUEST_TIMEOUT_MS = 10000;
  const THANKS_MS = 5000;
  const IDENTIFY_S = 10;

  const $ = (selector) => document.querySelector(selector);
  const el = {
    body: document.body,
    place: $("[data-testid=place]"),
    clock: $("[data-testid=clock]"),
    pairing: $("[data-testid=pairing]"),
    pairingCode: $("[data-testid=pairing-code]"),
    pairingStatus: $("[data-testid=pairing-status]"),
    stage: $("[data-testid=stage]"),
    item: $("[data-testid=item]"),
    empty: $("[data-testid=player-empty]"),
    banner: $("[data-testid=alert-banner]"),
    takeover: $("[data-testid=alert-takeover]"),
    standby: $("[data-testid=standby]"),
    standbyClock: $("[data-testid=standby-clock]"),
    identify: $("[data-testid=identify]"),
    identifyName: $("[data-testid=identify-name]"),
    stand: $("[data-testid=stand-hint]"),
    progress: $("[data-testid=progress]"),
  };

  const state = {
    started: Date.now(),
    phase: "starting", // pairing | playing
    secret: null,
    manifest: null,
    etag: null,
    poll: Object.assign({}, DEFAULT_POLL),
    reachable: true,
    lastOk: 0,
    errors: [],
    fetching: false,
    refetch: false,
    heartbeatTimer: null,
    manifestTimer: null,
    pairingTimer: null,
    current: null, // {id, endsAt, thanksUntil}
    viewKey: "",
    identifyUntil: 0,
    nextChangeFetched: null,
    mode: "pairing",
  };

  // --- small helpers ----------------------------------------------------------------------

  function load(key, fallback) {
    try {
      const raw = localStorage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (err) {
      return fallback;
    }
  }

  function save(key, value) {
    try {
      if (value === null || value === undefined) {
        localStorage.removeItem(key);
      } else {
        localStorage.setItem(key, JSON.stringify(value));
      }
    } catch (err) {
      noteError("storage: " + err.name);
    }
  }

  function noteError(message) {
    state.errors.push(String(message).slice(0, 200));
    if (state.errors.length > 10) {
      state.errors.splice(0, state.errors.length - 10);
    }
  }

  /** The local clock, corrected by the server's clock once a heartbeat told us the gap. */
  function now() {
    return Date.now() + (load(KEYS.clockOffset, 0) || 0);
  }

  function parseTime(value) {
    if (!value) {
      return null;
    }
    const t = Date.parse(value);
    return Number.isNaN(t) ? null : t;
  }

  function text(translations) {
    if (!translations) {
      return "";
    }
    if (typeof translations === "string") {
      return translations;
    }
    return translations.de || Object.values(translations).find(Boolean) || "";
  }

  /** Plain text from plain text or sanitised HTML, keeping paragraph breaks. */
  function plain(value) {
    const source = text(value);
    if (!/[<&]/.test(source)) {
      return source.trim();
    }
    // A parsed document has no browsing context: nothing in it runs or loads.
    const doc = new DOMParser().parseFromString(source, "text/html");
    const parts = [];
    const blocks = /^(P|DIV|LI|UL|OL|H[1-6]|BLOCKQUOTE|TR|TABLE)$/;
    (function walk(node) {
      for (const child of node.childNodes) {
        if (child.nodeType === Node.TEXT_NODE) {
          parts.push(child.data.replace(/\s+/g, " "));
        } else if (child.nodeType === Node.ELEMENT_NODE) {
          if (child.tagName === "BR") {
            parts.push("\n");
            continue;
          }
          if (child.tagName === "LI") {
            parts.push("• ");
          }
          walk(child);
          if (child.tagName === "LI") {
            parts.push("\n");
          } else if (blocks.test(child.tagName)) {
            parts.push("\n\n");
          }
        }
      }
    })(doc.body);
    return parts.join("").replace(/[ \t]*\n[ \t]*/g, "\n").replace(/\n{3,}/g, "\n\n").trim();
  }

  function make(tag, className, content) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (content !== undefined && content !== null) {
      node.textContent = content;
    }
    return node;
  }

  function timezone() {
    return (state.manifest && state.manifest.timezone) || "Europe/Berlin";
  }

  function wallClock(ms) {
    const parts = {};
    const format = new Intl.DateTimeFormat("de-DE", {
      timeZone: timezone(),
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      weekday: "short",
    });
    for (const part of format.formatToParts(new Date(ms))) {
      parts[part.type] = part.value;
    }
    return parts;
  }

  /** "22.11.2026 10:00" in the stele's time zone. */
  function formatStamp(ms) {
    const p = wallClock(ms);
    return `${p.day}.${p.month}.${p.year} ${p.hour}:${p.minute}`;
  }

  function jittered(seconds) {
    const pct = Math.max(0, Math.min(50, Number(state.poll.jitter_pct) || 0)) / 100;
    const factor = 1 + (Math.random() * 2 - 1) * pct;
    return Math.max(1000, seconds * 1000 * factor);
  }

  function interactionId() {
    if (window.crypto && crypto.randomUUID) {
      return crypto.randomUUID();
    }
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // --- talking to the server ---------------------------------------------------------------

  /** One device API call. Returns the Response, or null when the server was unreachable. */
  async function call(path, options) {
    const opts = options || {};
    const headers = Object.assign({ Accept: "application/json" }, opts.headers || {});
    const usedSecret = state.secret;
    if (opts.auth !== false && usedSecret) {
      headers.Authorization = "Bearer " + usedSecret;
    }
    const init = { method: opts.method || "GET", headers, cache: "no-store", credentials: "omit" };
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    init.signal = controller.signal;
    let response;
    try {
      response = await fetch(API + path, init);
    } catch (err) {
      markUnreachable();
      return null;
    } finally {
      clearTimeout(timer);
    }
    if (response.status >= 500) {
      markUnreachable();
    } else if (opts.auth !== false) {
      // During a rekey the old secret is kept until the new one has been accepted once.
      const previous = load(KEYS.previousSecret, null);
      const withNew = previous && usedSecret !== previous;
      if (response.status === 401 && withNew) {
        // The server does not know the new secret (rotation cancelled): go back.
        state.secret = previous;
        save(KEYS.secret, previous);
        save(KEYS.previousSecret, null);
      } else if (response.status === 401 && previous) {
        // The old secret, sent just before the new one was promoted: not a rejection.
      } else if (response.status === 401) {
        state.reachable = true;
        rejected();
      } else if (response.ok || response.status === 304) {
        if (withNew) {
          save(KEYS.previousSecret, null);
        }
        markOk();
      }
    }
    return response;
  }

  function markOk() {
    state.reachable = true;
    state.lastOk = Date.now();
    save(KEYS.lastOk, state.lastOk);
    save(KEYS.rejections, null);
  }

  function markUnreachable() {
    state.reachable = false;
    renderStand();
  }

  /** Count 401s since the first one; any accepted call resets the count (markOk). */
  function rejected() {
    const seen = load(KEYS.rejections, null);
    const record = seen && seen.first ? seen : { first: Date.now(), count: 0 };
    record.count += 1;
    save(KEYS.rejections, record);
    if (record.count >= UNPAIR_REJECTIONS && Date.now() - record.first >= UNPAIR_SPAN_MS) {
      unpair();
    }
  }

  function unpair() {
    for (const key of [KEYS.secret, KEYS.previousSecret, KEYS.deviceId, KEYS.manifest, KEYS.etag, KEYS.rejections,
      KEYS.pendingResults, KEYS.votes, KEYS.lastOk]) {
      save(key, null);
    }
    state.secret = null;
    state.manifest = null;
    state.etag = null;
    if ("caches" in window) {
      caches.delete(MEDIA_CACHE).catch(() => {});
    }
    startPairing();
  }

  // --- pairing -----------------------------------------------------------------------------

  function stopTimers() {
    for (const name of ["heartbeatTimer", "manifestTimer", "pairingTimer"]) {
      clearTimeout(state[name]);
      state[name] = null;
    }
  }

  function startPairing() {
    stopTimers();
    state.phase = "pairing";
    state.mode = "pairing";
    state.viewKey = "";
    render();
    pairingStep();
  }

  async function pairingStep() {
    if (state.phase !== "pairing") {
      return;
    }
    let pairing = load(KEYS.pairing, null);
    if (!pairing || pairing.expiresAt < Date.now() + 5000) {
      el.pairingStatus.textContent = "Code wird angefordert …";
      const response = await call("/pairing", {
        method: "POST",
        auth: false,
        body: {
          model: ("Browser " + navigator.userAgent).slice(0, 120),
          screen: { width: window.screen.width, height: window.screen.height },
          player_version: PLAYER_VERSION,
        },
      });
      if (!response || response.status !== 201) {
        const wait = response && response.status === 429
          ? (Number(response.headers.get("Retry-After")) || 30) * 1000
          : 10000;
        el.pairingCode.textContent = "";
        el.pairingStatus.textContent = response
          ? "Gerade nicht möglich – neuer Versuch in Kürze."
          : "Keine Verbindung zum Server – neuer Versuch in Kürze.";
        state.pairingTimer = setTimeout(pairingStep, wait);
        return;
      }
      const data = await response.json();
      pairing = {
        id: data.pairing_id,
        code: data.code,
        expiresAt: Date.now() + (data.expires_in || 600) * 1000,
        interval: Math.max(1, data.poll_interval_s || 5),
      };
      save(KEYS.pairing, pairing);
    }
    showCode(pairing);
    const response = await call("/pairing/" + encodeURIComponent(pairing.id), { auth: false });
    if (response && response.status === 200) {
      const data = await response.json();
      if (data.device_secret) {
        save(KEYS.secret, data.device_secret);
        save(KEYS.deviceId, data.device_id);
        save(KEYS.pairing, null);
        startPlaying();
        return;
      }
    }
    if (response && (response.status === 410 || response.status === 404)) {
      // Expired, or already collected by someone else: start over with a new code.
      save(KEYS.pairing, null);
      state.pairingTimer = setTimeout(pairingStep, 500);
      return;
    }
    el.pairingStatus.textContent = response
      ? "Wartet auf Freigabe in der Verwaltung …"
      : "Keine Verbindung zum Server – neuer Versuch in Kürze.";
    state.pairingTimer = setTimeout(pairingStep, pairing.interval * 1000);
  }

  function showCode(pairing) {
    const code = String(pairing.code || "");
    el.pairingCode.dataset.code = code;
    // Two groups of four read out more reliably than eight letters in a row.
    el.pairingCode.textContent = code.length === 8 ? code.slice(0, 4) + " " + code.slice(4) : code;
  }

  // --- manifest ------------------------------------------------------------------------------

  function startPlaying() {
    stopTimers();
    state.phase = "playing";
    state.secret = load(KEYS.secret, null);
    state.manifest = load(KEYS.manifest, null);
    state.etag = load(KEYS.etag, null);
    state.lastOk = load(KEYS.lastOk, 0) || 0;
    if (state.manifest && state.manifest.poll) {
      state.poll = Object.assign({}, DEFAULT_POLL, state.manifest.poll);
    }
    state.viewKey = "";
    render();
    fetchManifest();
    // A first heartbeat soon (commands, versions), spread so a fleet does not start in step.
    scheduleHeartbeat(Math.random() * Math.min(3000, state.poll.heartbeat_s * 1000));
  }

  async function fetchManifest() {
    if (state.phase !== "playing") {
      return;
    }
    if (state.fetching) {
      state.refetch = true;
      return;
    }
    state.fetching = true;
    clearTimeout(state.manifestTimer);
    try {
      const headers = {};
      if (state.manifest && state.etag) {
        headers["If-None-Match"] = state.etag;
      }
      const response = await call("/manifest", { headers });
      if (response && response.status === 200) {
        const manifest = await response.json();
        if (manifest && Array.isArray(manifest.items)) {
          const etag = response.headers.get("ETag") || `"${manifest.version}"`;
          applyManifest(manifest, etag);
        } else {
          noteError("manifest: unexpected shape");
        }
      } else if (response && response.status !== 304 && response.status !== 401) {
        noteError("manifest: HTTP " + response.status);
      }
    } catch (err) {
      noteError("manifest: " + err.name);
    } finally {
      state.fetching = false;
      if (state.phase === "playing") {
        if (state.refetch) {
          state.refetch = false;
          setTimeout(fetchManifest, 0);
        } else {
          state.manifestTimer = setTimeout(fetchManifest, jittered(state.poll.manifest_s));
        }
      }
    }
  }

  function applyManifest(manifest, etag) {
    state.manifest = manifest;
    state.etag = etag;
    save(KEYS.manifest, manifest);
    save(KEYS.etag, etag);
    if (manifest.poll) {
      state.poll = Object.assign({}, DEFAULT_POLL, manifest.poll);
    }
    state.nextChangeFetched = null;
    state.viewKey = "";
    render();
    syncMedia(manifest);
  }

  function mediaUrls(manifest) {
    const urls = new Set();
    for (const item of manifest.items || []) {
      for (const media of item.media || []) {
        if (media.url) {
          urls.add(new URL(media.url, location.origin).href);
        }
      }
    }
    return urls;
  }

  /** Download every image the manifest uses into Cache Storage; drop what it no longer lists. */
  async function syncMedia(manifest) {
    if (!("caches" in window)) {
      return;
    }
    try {
      const cache = await caches.open(MEDIA_CACHE);
      const wanted = mediaUrls(manifest);
      for (const url of wanted) {
        if (!(await cache.match(url))) {
          const response = await fetch(url, { credentials: "omit" });
          if (response.ok) {
            await cache.put(url, response);
          }
        }
      }
      const assets = new Set(manifest.assets || []);
      for (const request of await cache.keys()) {
        const sha = new URL(request.url).pathname.split("/")[2];
        if (!wanted.has(request.url) && !assets.has(sha)) {
          await cache.delete(request);
        }
      }
    } catch (err) {
      noteError("media cache: " + err.name);
    }
  }

  // --- heartbeat and commands ----------------------------------------------------------------

  function scheduleHeartbeat(delay) {
    clearTimeout(state.heartbeatTimer);
    state.heartbeatTimer = setTimeout(heartbeat, delay === undefined
      ? jittered(state.poll.heartbeat_s)
      : delay);
  }

  async function storageEstimate() {
    try {
      if (navigator.storage && navigator.storage.estimate) {
        const estimate = await navigator.storage.estimate();
        const used = Math.round(estimate.usage || 0);
        return { used_bytes: used, free_bytes: Math.max(0, Math.round((estimate.quota || 0) - used)) };
      }
    } catch (err) {
      noteError("storage estimate: " + err.name);
    }
    return undefined;
  }

  async function heartbeat() {
    if (state.phase !== "playing") {
      return;
    }
    try {
      const results = (load(KEYS.pendingResults, []) || []).slice(0, 20);
      const errors = state.errors.splice(0, 10);
      const body = {
        manifest_version: state.manifest ? state.manifest.version : null,
        alert_version: state.manifest ? state.manifest.alert_version || null : null,
        player_version: PLAYER_VERSION,
        uptime_s: Math.round((Date.now() - state.started) / 1000),
        mode: state.mode,
        current_item: state.current ? state.current.id : null,
        screen_on: state.mode !== "standby",
        errors,
        command_results: results,
      };
      const storage = await storageEstimate();
      if (storage) {
        body.storage = storage;
      }
      const sentAt = Date.now();
      const response = await call("/heartbeat", { method: "POST", body });
      if (!response) {
        state.errors.unshift(...errors);
        return;
      }
      if (response.status === 422 || response.status === 413) {
        // The server refused this body; do not send the same results again forever.
        dropPendingResults(results);
        noteError("heartbeat: HTTP " + response.status);
        return;
      }
      if (response.status !== 200) {
        return;
      }
      const reply = await response.json();
      dropPendingResults(results);
      const serverTime = parseTime(reply.server_time);
      if (serverTime) {
        const offset = serverTime - (sentAt + Date.now()) / 2;
        save(KEYS.clockOffset, Math.abs(offset) > 2000 ? Math.round(offset) : 0);
      }
      if (reply.poll) {
        state.poll = Object.assign({}, DEFAULT_POLL, reply.poll);
      }
      const mine = state.manifest || {};
      if (reply.manifest_version !== mine.version || reply.alert_version !== mine.alert_version) {
        fetchManifest();
      }
      flushVotes();
      for (const command of reply.commands || []) {
        await runCommand(command);
      }
    } catch (err) {
      noteError("heartbeat: " + err.name);
    } finally {
      if (state.phase === "playing") {
        scheduleHeartbeat();
      }
    }
  }

  function dropPendingResults(sent) {
    if (!sent.length) {
      return;
    }
    const ids = new Set(sent.map((r) => r.id));
    save(KEYS.pendingResults, (load(KEYS.pendingResults, []) || []).filter((r) => !ids.has(r.id)));
  }

  /** Remember the outcome (so a redelivered command is not run twice) and report it. */
  async function reportResult(id, status, result) {
    const handled = load(KEYS.commands, {}) || {};
    handled[id] = { status, result, at: Date.now() };
    const ids = Object.keys(handled).sort((a, b) => handled[a].at - handled[b].at);
    for (const old of ids.slice(0, Math.max(0, ids.length - 50))) {
      delete handled[old];
    }
    save(KEYS.commands, handled);
    const response = await call(`/commands/${id}/result`, {
      method: "POST",
      body: { status, result },
    });
    if (!response || response.status >= 500) {
      // Delivered with the next heartbeat instead.
      const pending = (load(KEYS.pendingResults, []) || []).filter((r) => r.id !== id);
      pending.push({ id, status, result });
      save(KEYS.pendingResults, pending.slice(-20));
    }
  }

  async function runCommand(command) {
    const id = command.id;
    const handled = (load(KEYS.commands, {}) || {})[id];
    // A redelivered rekey carries a fresh secret (the server keeps only the newest): use it.
    if (handled && command.type !== "rekey") {
      // Delivered again (at least once): report, do not repeat.
      await reportResult(id, handled.status, handled.result);
      return;
    }
    const expires = parseTime(command.expires_at);
    if (expires !== null && expires < now()) {
      await reportResult(id, "failed", { error: "expired" });
      return;
    }
    const payload = command.payload || {};
    switch (command.type) {
      case "reload":
        await reportResult(id, "done", {});
        location.reload();
        return;
      case "identify": {
        const seconds = Math.max(1, Math.min(120, Number(payload.duration_s) || IDENTIFY_S));
        state.identifyUntil = Date.now() + seconds * 1000;
        render();
        await reportResult(id, "done", { shown_s: seconds });
        return;
      }
      case "clear_cache": {
        let cleared = false;
        if ("caches" in window) {
          cleared = await caches.delete(MEDIA_CACHE);
        }
        if (state.manifest) {
          await syncMedia(state.manifest);
        }
        await reportResult(id, "done", { media_cache_cleared: cleared });
        return;
      }
      case "rekey": {
        // The new secret arrives in the payload; the first call made with it makes it the
        // only valid one on the server (the old one works until then).
        const secret = payload.device_secret || payload.secret;
        if (typeof secret !== "string" || !secret) {
          await reportResult(id, "failed", { error: "no secret in payload" });
          return;
        }
        save(KEYS.previousSecret, state.secret);
        save(KEYS.secret, secret);
        state.secret = secret;
        await reportResult(id, "done", { rotated: true });
        return;
      }
      default:
        // screenshot: a web page cannot capture its own screen.
        await reportResult(id, "failed", { error: "unsupported", type: String(command.type) });
    }
  }

  // --- votes -----------------------------------------------------------------------------

  async function sendVote(vote) {
    const response = await call("/votes", { method: "POST", body: vote });
    if (!response || response.status >= 500) {
      return "queued";
    }
    if (response.status === 200 || response.status === 201) {
      return "recorded";
    }
    if (response.status === 429) {
      return "cooldown";
    }
    return "refused";
  }

  async function vote(item, option) {
    const entry = {
      survey_id: item.poll.survey_id,
      option_id: option.id,
      interaction_id: interactionId(),
    };
    showThanks(item, "sending");
    let outcome = await sendVote(entry);
    if (outcome === "queued") {
      const queue = (load(KEYS.votes, []) || []).slice(-49);
      queue.push(Object.assign({ at: Date.now() }, entry));
      save(KEYS.votes, queue);
      outcome = "recorded";
    }
    showThanks(item, outcome);
  }

  /** Votes cast while offline, sent again with the same interaction id (idempotent). */
  async function flushVotes() {
    const queue = load(KEYS.votes, []) || [];
    if (!queue.length) {
      return;
    }
    const keep = [];
    for (const entry of queue) {
      if (Date.now() - entry.at > 24 * 3600 * 1000) {
        continue;
      }
      const body = {
        survey_id: entry.survey_id,
        option_id: entry.option_id,
        interaction_id: entry.interaction_id,
      };
      const outcome = await sendVote(body);
      if (outcome === "queued" || outcome === "cooldown") {
        keep.push(entry);
      }
    }
    save(KEYS.votes, keep);
  }

  // --- what to show --------------------------------------------------------------------------

  function isValid(thing, t) {
    const from = parseTime(thing.valid_from);
    const until = parseTime(thing.valid_until);
    return (from === null || from <= t) && (until === null || t < until);
  }

  function activeAlerts(t) {
    const alerts = ((state.manifest && state.manifest.alerts) || []).filter((a) => {
      const from = parseTime(a.effective_at);
      const until = parseTime(a.expires_at);
      // Cleared at expires_at by the stele itself, with or without the server.
      return (from === null || from <= t) && (until === null || t < until);
    });
    alerts.sort((a, b) => (LEVEL_RANK[b.level] || 0) - (LEVEL_RANK[a.level] || 0)
      || (parseTime(b.updated_at || b.effective_at) || 0)
        - (parseTime(a.updated_at || a.effective_at) || 0));
    return alerts;
  }

  function playlist(t, alerts) {
    const items = ((state.manifest && state.manifest.items) || []).filter((i) => isValid(i, t));
    // "interleave" alerts take a turn in the rotation, ahead of the regular items.
    const interleaved = alerts.filter((a) => a.mode === "interleave").map((a) => ({
      id: a.id,
      kind: "alert",
      duration_s: 15,
      alert: a,
    }));
    return interleaved.concat(items);
  }

  function minutes(hhmm) {
    const match = /^(\d{1,2}):(\d{2})$/.exec(String(hhmm || ""));
    return match ? Number(match[1]) * 60 + Number(match[2]) : null;
  }

  function inWindows(windows, t) {
    const p = wallClock(t);
    const names = { Mo: 0, Di: 1, Mi: 2, Do: 3, Fr: 4, Sa: 5, So: 6 };
    const day = names[String(p.weekday).replace(".", "")];
    const minute = Number(p.hour) * 60 + Number(p.minute);
    return windows.some((w) => {
      const start = minutes(w.start);
      const end = minutes(w.end);
      const days = Array.isArray(w.days) ? w.days : [0, 1, 2, 3, 4, 5, 6];
      if (start === null || end === null || day === undefined) {
        return false;
      }
      if (start < end) {
        return days.includes(day) && minute >= start && minute < end;
      }
      if (start > end) {
        // Overnight: belongs to the day it starts on.
        return (days.includes(day) && minute >= start) || (days.includes((day + 6) % 7) && minute < end);
      }
      return false;
    });
  }

  function inStandby(t) {
    const schedule = state.manifest && state.manifest.device && state.manifest.device.schedule;
    if (!schedule) {
      return false;
    }
    const hours = schedule.operating_hours || [];
    const night = schedule.night_mode || [];
    return (night.length > 0 && inWindows(night, t)) || (hours.length > 0 && !inWindows(hours, t));
  }

  function advance(list, t) {
    if (!list.length) {
      state.current = null;
      return;
    }
    let index = 0;
    if (state.current) {
      const at = list.findIndex((entry) => entry.id === state.current.id);
      if (at >= 0) {
        index = (at + 1) % list.length;
      } else {
        // The current item went away: continue with the one after it in the manifest order.
        const order = ((state.manifest && state.manifest.items) || []).map((i) => i.id);
        const gone = order.indexOf(state.current.id);
        const later = list.findIndex((entry) => order.indexOf(entry.id) > gone);
        index = gone >= 0 && later >= 0 ? later : 0;
      }
    }
    const entry = list[index];
    const seconds = Math.max(3, Number(entry.duration_s) || 15);
    state.current = { id: entry.id, endsAt: t + seconds * 1000, thanks: null };
  }

  /** Decide what is on screen; called every second and after every change. */
  function render() {
    const t = now();
    renderClock(t);
    renderStand();
    if (state.phase === "pairing") {
      show("pairing");
      el.place.textContent = "";
      state.mode = "pairing";
      return;
    }
    if (state.phase !== "playing") {
      return;
    }
    const manifest = state.manifest;
    if (manifest && manifest.device) {
      const district = manifest.device.district;
      el.place.textContent = district && district.name ? district.name : manifest.device.name || "";
    }
    if (manifest && manifest.next_change_at) {
      const change = parseTime(manifest.next_change_at);
      if (change && change <= t && state.nextChangeFetched !== manifest.next_change_at) {
        state.nextChangeFetched = manifest.next_change_at;
        fetchManifest();
      }
    }
    const alerts = activeAlerts(t);
    const takeover = alerts.find((a) => a.mode === "takeover");
    const banner = alerts.find((a) => a.mode === "banner" || a.mode === "ticker");
    const identify = Date.now() < state.identifyUntil;
    el.identify.hidden = !identify;
    if (identify) {
      el.identifyName.textContent = (manifest && manifest.device && manifest.device.name) || "";
    }
    if (takeover) {
      state.mode = "alert";
      show("takeover");
      const key = "takeover:" + takeover.id + ":" + takeover.updated_at;
      if (state.viewKey !== key) {
        state.viewKey = key;
        renderAlert(el.takeover, takeover, "takeover");
      }
      state.current = { id: takeover.id, endsAt: t + 1000, thanks: null, alert: true };
      return;
    }
    if (!alerts.length && inStandby(t)) {
      state.mode = "standby";
      show("standby");
      state.viewKey = "standby";
      state.current = null;
      return;
    }
    state.mode = "playing";
    show("stage");
    renderBanner(banner);
    const list = playlist(t, alerts);
    if (state.current && state.current.alert) {
      state.current = null; // the takeover just ended: start the rotation again
    }
    const current = state.current;
    const stillThere = current && list.some((entry) => entry.id === current.id);
    if (!current || !stillThere || t >= current.endsAt) {
      advance(list, t);
    }
    if (!state.current) {
      el.item.hidden = true;
      el.empty.hidden = false;
      el.progress.textContent = "";
      state.viewKey = "empty";
      return;
    }
    el.item.hidden = false;
    el.empty.hidden = true;
    const entry = list.find((e) => e.id === state.current.id);
    const key = "item:" + entry.id + ":" + state.current.endsAt + ":" + (state.current.thanks || "")
      + ":" + (state.manifest ? state.manifest.version : "");
    if (state.viewKey !== key) {
      state.viewKey = key;
      renderItem(entry);
      el.progress.textContent = list.map((e) => (e.id === entry.id ? "●" : "○")).join(" ");
    }
  }

  function show(which) {
    el.pairing.hidden = which !== "pairing";
    el.stage.hidden = which !== "stage";
    el.takeover.hidden = which !== "takeover";
    el.standby.hidden = which !== "standby";
    el.body.classList.toggle("standby-on", which === "standby");
    if (which !== "stage") {
      el.banner.hidden = true;
      el.body.classList.remove("has-banner");
    }
    el.body.dataset.state = which;
  }

  function renderClock(t) {
    const p = wallClock(t);
    const clock = `${p.weekday} ${p.day}.${p.month}. ${p.hour}:${p.minute}`;
    if (el.clock.textContent !== clock) {
      el.clock.textContent = clock;
      el.standbyClock.textContent = `${p.hour}:${p.minute}`;
    }
  }

  function renderStand() {
    if (state.phase !== "playing" || !state.manifest) {
      el.stand.hidden = true;
      return;
    }
    const intervalMs = (Number(state.poll.heartbeat_s) || 30) * 1000;
    const last = state.lastOk || parseTime(state.manifest.generated_at) || 0;
    const outdated = !state.reachable || Date.now() - last > 2 * intervalMs + 2000;
    el.stand.hidden = !outdated;
    if (outdated) {
      const label = "Stand: " + formatStamp(last);
      if (el.stand.textContent !== label) {
        el.stand.textContent = label;
      }
    }
  }

  function renderBanner(alert) {
    const key = alert ? alert.id + ":" + alert.updated_at : "";
    el.body.classList.toggle("has-banner", Boolean(alert));
    el.banner.hidden = !alert;
    if (el.banner.dataset.key === key) {
      return;
    }
    el.banner.dataset.key = key;
    el.banner.replaceChildren();
    if (!alert) {
      return;
    }
    el.banner.dataset.level = alert.level || "high";
    el.banner.dataset.mode = alert.mode;
    el.banner.dataset.alertId = alert.id;
    el.banner.append(
      make("span", "alert-label", LEVEL_LABEL[alert.level] || "Warnung"),
      make("span", "alert-headline", text(alert.headline)),
    );
  }

  function renderAlert(container, alert, mode) {
    container.replaceChildren();
    container.dataset.level = alert.level || "critical";
    container.dataset.alertId = alert.id;
    container.dataset.mode = mode;
    container.append(
      make("span", "alert-label", LEVEL_LABEL[alert.level] || "Warnung"),
      make("h1", "alert-headline", text(alert.headline)),
    );
    const description = plain(alert.description);
    if (description) {
      container.append(make("p", "alert-description", description));
    }
    const instruction = plain(alert.instruction);
    if (instruction) {
      container.append(make("p", "alert-instruction", instruction));
    }
    const meta = [alert.sender, alert.updated_at || alert.effective_at
      ? "Stand der Meldung: " + formatStamp(parseTime(alert.updated_at || alert.effective_at))
      : ""].filter(Boolean).join(" · ");
    if (meta) {
      container.append(make("p", "alert-meta", meta));
    }
  }

  function renderItem(entry) {
    const node = el.item;
    node.replaceChildren();
    node.dataset.itemId = entry.id;
    node.dataset.kind = entry.kind;
    node.dataset.level = entry.level || "";
    node.className = "item item-" + entry.kind;
    if (entry.kind === "alert") {
      renderAlert(node, entry.alert, "interleave");
      return;
    }
    if (entry.kind === "poll" && entry.poll) {
      renderPoll(node, entry);
      return;
    }
    node.append(make("span", "item-kind", KIND_LABEL[entry.kind] || ""));
    const image = (entry.media || []).find((m) => m.url && /^image\//.test(m.mime || "image/"));
    if (image) {
      const img = make("img", "item-image");
      img.alt = text(image.alt);
      img.dataset.testid = "item-image";
      img.setAttribute("data-testid", "item-image");
      img.addEventListener("error", () => { img.hidden = true; });
      img.src = image.url;
      node.append(img);
    }
    const title = make("h1", "item-title", text(entry.title));
    title.setAttribute("data-testid", "item-title");
    node.append(title);
    const summary = plain(entry.summary);
    if (summary) {
      node.append(make("p", "item-summary", summary));
    }
    const body = plain(entry.body);
    if (body && body !== summary) {
      node.append(make("p", "item-body", body));
    }
  }

  function renderPoll(node, entry) {
    const thanks = state.current && state.current.thanks;
    if (thanks && thanks !== "sending") {
      const box = make("div", "poll-thanks");
      box.setAttribute("data-testid", "poll-thanks");
      if (thanks === "cooldown") {
        box.append(make("h2", null, "Einen Moment"),
          make("p", null, "Gerade wurde hier schon abgestimmt. Bitte gleich noch einmal versuchen."));
      } else if (thanks === "refused") {
        box.append(make("h2", null, "Danke"),
          make("p", null, "Diese Umfrage nimmt gerade keine Stimmen an."));
      } else {
        box.append(make("h2", null, "Danke!"), make("p", null, "Ihre Stimme wurde gezählt."));
      }
      node.append(box);
      return;
    }
    node.append(make("span", "item-kind", KIND_LABEL.poll));
    const question = make("h1", "poll-question", text(entry.poll.question) || text(entry.title));
    question.setAttribute("data-testid", "item-title");
    node.append(question);
    const options = make("div", "poll-options");
    for (const option of entry.poll.options || []) {
      const button = make("button", "poll-option", text(option.label));
      button.type = "button";
      button.setAttribute("data-testid", "poll-option");
      button.dataset.optionId = option.id;
      button.disabled = thanks === "sending";
      button.addEventListener("click", () => vote(entry, option));
      options.append(button);
    }
    node.append(options, make("p", "poll-hint", "Tippen Sie auf Ihre Antwort. Anonym."));
  }

  function showThanks(entry, outcome) {
    if (!state.current || state.current.id !== entry.id) {
      return;
    }
    state.current.thanks = outcome;
    // Give the person time to read the answer, then move on.
    state.current.endsAt = Math.max(state.current.endsAt, now() + THANKS_MS);
    render();
  }

  // --- start ---------------------------------------------------------------------------------

  function registerWorker() {
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/player/sw.js", { scope: "/player/" }).catch((err) => {
        noteError("service worker: " + err.name);
      });
    }
  }

  function start() {
    registerWorker();
    setInterval(render, 1000);
    if (load(KEYS.secret, null)) {
      startPlaying();
    } else {
      startPairing();
    }
  }

  start();
})();
