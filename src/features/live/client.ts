/**
 * The browser side of `--live`, served as `/__wharf/live.js` (same origin, so
 * `script-src 'self'` allows it). It listens to `/__wharf/events`:
 *
 * - `hello` with the server's instance id: a different id than the page was
 *   served by (the server restarted) reloads once;
 * - `reload`: reloads;
 * - `css` with URL paths: when every one is a stylesheet this page links, each
 *   link is replaced in place — the new `<link>` is inserted after the old one
 *   and the old removed only once the new has loaded, so nothing flashes and
 *   scroll and form state stay; otherwise it reloads.
 *
 * It does nothing inside a frame (a page embedded in another would reload its
 * parent's content, and the parent has its own script) or when `<html>` has
 * `data-wharf-live="off"`.
 */
export const CLIENT_SCRIPT = `// wharf live reload (--live): https://github.com/wharf-server/wharf/blob/main/docs/features.md
(() => {
  "use strict";
  if (window.top !== window.self) return;
  if (document.documentElement.getAttribute("data-wharf-live") === "off") return;
  if (window.__wharfLive) return;
  const me = document.currentScript;
  const src = new URL(me ? me.src : "/__wharf/live.js", location.href);
  let instance = src.searchParams.get("v");
  let reloading = false;
  const reload = () => {
    if (reloading) return;
    reloading = true;
    source.close();
    location.reload();
  };
  const source = new EventSource(new URL("events", src));
  // The stream, for a page (or a test) that wants to know whether it is connected.
  window.__wharfLive = source;
  source.addEventListener("hello", (e) => {
    const id = JSON.parse(e.data).id;
    if (instance !== null && id !== instance) reload();
    instance = id;
  });
  source.addEventListener("reload", reload);
  source.addEventListener("css", (e) => {
    const paths = JSON.parse(e.data);
    const linked = new Map();
    for (const link of document.querySelectorAll('link[rel~="stylesheet"][href]')) {
      const url = new URL(link.href, location.href);
      if (url.origin !== location.origin) continue;
      let path = url.pathname;
      try { path = decodeURIComponent(path); } catch {}
      if (!linked.has(path)) linked.set(path, []);
      linked.get(path).push(link);
    }
    if (paths.length === 0 || !paths.every((p) => linked.has(p))) return reload();
    for (const p of paths) for (const link of linked.get(p)) swap(link);
  });
  let generation = 0;
  function swap(old) {
    const next = old.cloneNode(false);
    const url = new URL(old.href, location.href);
    url.searchParams.set("wharf-live", String(++generation));
    next.href = url.href;
    next.addEventListener("load", () => old.remove(), { once: true });
    next.addEventListener("error", () => next.remove(), { once: true });
    old.after(next);
  }
})();
`;
