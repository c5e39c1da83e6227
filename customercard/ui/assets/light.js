// The frame of every light component's render script (customercard.ui.components.light_scripts fills in the
// component's own render function and the list of its children's elements).
const cc_render = __CC_RENDER__;
__CC_KIDS__
state.handlers = {};
// Panel sends text parameters through its HTML sanitizer (& as &amp;, tags dropped): give back the text.
const text = (value) => {
  if (typeof value !== "string" || !value.includes("&")) return value;
  const area = document.createElement("textarea");
  area.innerHTML = value;
  return area.value;
};
const api = new Proxy({}, {
  get(_target, key) {
    if (key === "on") {
      return (names, callback) => {
        for (const name of [].concat(names)) (state.handlers[name] = state.handlers[name] || []).push(callback);
      };
    }
    if (key === "send_msg") {
      return (msg) => ccroot.dispatchEvent(new CustomEvent("ccmsg", {detail: msg}));
    }
    if (key === "get_child") return () => kids;
    return text(data[key]);
  },
  set(_target, key, value) { data[key] = value; return true; },
});
const out = cc_render({model: api, el: ccroot});
if (out instanceof Element) ccroot.replaceChildren(out);
