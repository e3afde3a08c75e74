/* Stele player service worker: keeps the player shell and the manifest's media in Cache
   Storage so a stele that reloads while the server is down still plays its last content.
   The manifest itself lives in localStorage (player.js); device API calls pass through. */
"use strict";

const SHELL_CACHE = "stele-shell-v1";
const MEDIA_CACHE = "stele-media-v1";
const SHELL = ["/player/", "/player/player.css", "/player/player.js", "/player/icon.svg"];
// A hanging uplink must not keep the screen black: fall back to the cached shell quickly.
const SHELL_TIMEOUT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((n) => n.startsWith("stele-") && n !== SHELL_CACHE && n !== MEDIA_CACHE)
          .map((n) => caches.delete(n))
      ))
      .then(() => self.clients.claim())
  );
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((v) => { clearTimeout(timer); resolve(v); },
                 (e) => { clearTimeout(timer); reject(e); });
  });
}

/* Shell: network first (a new player version arrives with the next reload), cache as
   fallback. */
async function shell(request) {
  const cache = await caches.open(SHELL_CACHE);
  try {
    const response = await withTimeout(fetch(request, { cache: "no-cache" }), SHELL_TIMEOUT_MS);
    if (response.ok) {
      await cache.put(request, response.clone());
    }
    return response;
  } catch (err) {
    const url = new URL(request.url);
    const cached = await cache.match(request, { ignoreSearch: true })
      || (request.mode === "navigate" ? await cache.match("/player/") : undefined)
      || (url.pathname === "/player" ? await cache.match("/player/") : undefined);
    if (cached) {
      return cached;
    }
    throw err;
  }
}

/* Media: content-addressed and immutable, so cache first, forever (the player prunes what
   the manifest's `assets` no longer lists). */
async function media(request) {
  const cache = await caches.open(MEDIA_CACHE);
  const cached = await cache.match(request, { ignoreSearch: true, ignoreVary: true });
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (response.ok && response.status === 200) {
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.startsWith("/media/") && !request.headers.has("range")) {
    event.respondWith(media(request));
  } else if (url.pathname === "/player" || url.pathname.startsWith("/player/")) {
    event.respondWith(shell(request));
  }
  // Everything else (the device API) goes to the network untouched.
});
