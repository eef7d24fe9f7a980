// DOM helpers. Values only ever become text nodes or properties, never HTML.

let ids = 0;

export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class") {
      node.className = value;
    } else if (key.startsWith("aria-") || key.startsWith("data-") || key === "role" || key === "for") {
      node.setAttribute(key, value === true ? "true" : String(value));
    } else if (key in node) {
      node[key] = value;
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function uid(prefix) {
  ids += 1;
  return `${prefix || "f"}-${ids}`;
}

// A labelled field: <div class="field"><label for=id>…</label>input hint</div>
export function field(label, input, hint) {
  if (!input.id) input.id = uid("f");
  const parts = [h("label", { for: input.id }, label), input];
  if (hint) {
    const hintId = uid("hint");
    input.setAttribute("aria-describedby", hintId);
    parts.push(h("small", { id: hintId, class: "hint" }, hint));
  }
  return h("div", { class: "field" }, parts);
}

// columns: [{label, value: row => text|Node, class?}]
export function table(columns, rows, caption) {
  const head = h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.class }, c.label)));
  const body = rows.length
    ? rows.map((row) => h("tr", {}, columns.map((c) => h("td", { class: c.class, "data-label": c.label }, c.value(row)))))
    : [h("tr", {}, h("td", { colSpan: columns.length, class: "muted" }, "Nothing here yet."))];
  return h("div", { class: "table-wrap" },
    h("table", { class: "stack" }, caption ? h("caption", {}, caption) : null, h("thead", {}, head), h("tbody", {}, body)));
}

export function bar(value, max, label) {
  const v = Math.max(0, Number(value) || 0);
  const m = Math.max(0, Number(max) || 0);
  const pct = m ? Math.min(100, Math.round((v / m) * 100)) : 0;
  const text = `${v} / ${m}`;
  const fill = h("span", { class: "bar-fill" });
  fill.style.width = `${pct}%`;
  return h("div", {
    class: "bar", role: "progressbar", "aria-label": label || "progress",
    "aria-valuemin": 0, "aria-valuemax": m, "aria-valuenow": v, "aria-valuetext": text,
  }, fill, h("span", { class: "bar-text" }, text));
}

export function notice(root, message, kind) {
  const node = h("p", { class: `notice ${kind || "info"}`, role: kind === "error" ? "alert" : "status" }, message);
  root.prepend(node);
  if (kind !== "error") setTimeout(() => node.remove(), 6000);
  return node;
}

export function errorText(error) {
  const details = (error && error.details) || [];
  const named = details.map((d) => [d.field, d.message || d.reason].filter(Boolean).join(": ")).filter(Boolean);
  return [error && error.message ? error.message : String(error), ...named].join(" — ");
}

export function fmtTime(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

export function pager(nextCursor, onNext) {
  if (!nextCursor) return h("span");
  return h("button", { type: "button", class: "secondary", onclick: () => onNext(nextCursor) }, "Next page");
}

// A status line for a page: [the element, say(message, kind) replacing what it shows].
export function status() {
  const box = h("div", { "aria-live": "polite" });
  return [box, (message, kind) => {
    box.replaceChildren();
    notice(box, message, kind);
  }];
}

// A secret shown once (a new key, an invitation link): selected, with Copy and Done.
export function revealOnce(target, { region, label, name, secret, message }) {
  const value = h("input", { type: "text", readOnly: true, value: secret, name, size: 48 });
  const copy = button("Copy", () => {
    value.select();
    if (navigator.clipboard) navigator.clipboard.writeText(secret).catch(() => {});
  }, "secondary");
  target.replaceChildren(
    h(
      "div",
      { class: "card", role: "region", "aria-label": region },
      h("p", {}, ...message),
      field(label, value),
      h("div", { class: "row" }, copy, button("Done", () => target.replaceChildren(), "secondary")),
    ),
  );
  value.focus();
  value.select();
}

export function button(label, onclick, kind) {
  return h("button", { type: "button", class: kind || "", onclick }, label);
}

// Runs an action with the button disabled; shows the error beside `root` when it fails.
export async function busy(buttonNode, root, action) {
  buttonNode.disabled = true;
  try {
    return await action();
  } catch (error) {
    notice(root, errorText(error), "error");
    return undefined;
  } finally {
    buttonNode.disabled = false;
  }
}

export function badge(status) {
  return h("span", { class: `badge status-${String(status).replace(/[^a-z_]/g, "")}` }, status);
}
