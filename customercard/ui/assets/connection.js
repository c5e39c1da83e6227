/* A page that has lost its connection to the server says so at once, in its reader's language: nothing more can be
   saved from it, and what was typed is still on it (leaving asks first: unsaved.js). Bokeh tells its documents
   "connection_lost"; its own notice (in English) is not drawn on our pages, and Panel's needs a notification area
   (a model and a script of its own on every page) — a line of text is enough. */
(() => {
  "use strict";
  if (window.ccConnection) return;
  const watched = new WeakSet();
  function lost() {
    const text = (window.ccTexts || {}).connection_lost || "The connection to the server was lost.";
    let banner = document.getElementById("cc-connection-lost");
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "cc-connection-lost";
      banner.className = "cc-connection-lost";
      banner.setAttribute("role", "alert");
      // over the page's top, white on red (6.6:1); styled here: the served notebook's page has no app.css
      banner.style.cssText = "position: sticky; top: 0; z-index: 30; padding: 8px 14px; background: #b42318; " +
        "color: #fff; font: 600 15px/1.4 system-ui, sans-serif;";
      document.body.prepend(banner);
    }
    banner.textContent = text;
  }
  function watch() {
    const docs = (window.Bokeh && window.Bokeh.documents) || [];
    for (const doc of docs) {
      if (watched.has(doc) || typeof doc.on_event !== "function") continue;
      watched.add(doc);
      doc.on_event("connection_lost", lost);
    }
    return docs.length > 0;
  }
  // the page's documents exist once Bokeh has embedded them (after this script): looked for until then (a minute)
  let tries = 0;
  const timer = setInterval(() => { if (watch() || ++tries > 600) clearInterval(timer); }, 100);
  window.ccConnection = {lost};
})();
