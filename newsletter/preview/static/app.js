// The preview page: fetches JSON from the server, shows it, and refetches whenever the
// server-sent event stream reports a new build. No framework, no build step.
// Everything from the project is put into the page as text (textContent), never as markup;
// the email itself goes into sandboxed iframes (no scripts) through srcdoc.

const $ = (id) => document.getElementById(id);
const KB = 1024;

const route = (() => {
  const m = location.pathname.match(/^\/issues\/([^/]+)$/);
  return m ? { view: "issue", slug: decodeURIComponent(m[1]) } : { view: "index" };
})();

let shownVersion = -1;
let requested = 0; // sequence number of the latest request: older answers are dropped
let reader = new URLSearchParams(location.search).get("as") || "sample";
let language = new URLSearchParams(location.search).get("lang") || "";
let shownHtml = null;
let shownScheme = null;
let shownWeb = null;

// How the email is shown: its colours (light; dark as clients that honour
// prefers-color-scheme show it; inverted as clients that flip colours show it) and
// the width of its frame (a preset, or desktop and phone side by side).
const SCHEMES = ["light", "dark", "inverted"];
const WIDTHS = ["320", "375", "414", "600", "800"];
const params = new URLSearchParams(location.search);
let scheme = SCHEMES.includes(params.get("colours")) ? params.get("colours") : "light";
let width = WIDTHS.includes(params.get("width")) ? params.get("width") : "";
const INVERT = "invert(1) hue-rotate(180deg)";
const SCHEME_NOTES = {
  light: "",
  dark: "Dark: as Apple Mail, iOS Mail, Outlook for Mac and Thunderbird show the email in dark mode, with its own dark styles (prefers-color-scheme: dark).",
  inverted: "Inverted: as apps that recolour emails in dark mode show it (the Gmail and Outlook apps): colours flipped, images left as they are.",
};

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function kb(bytes) {
  return `${(bytes / KB).toFixed(1)} KB`;
}

function longDate(iso) {
  const d = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(`${iso}T12:00:00`) : null;
  return d && !isNaN(d) ? d.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" }) : iso;
}

function setLive(text, state) {
  const live = $("live");
  live.textContent = text;
  live.dataset.state = state;
}

// --- problems ----------------------------------------------------------------------------

function problemList(problems) {
  const list = el("ul", { class: "problems" });
  for (const p of problems) {
    const item = el("li", {}, el("code", { class: "where", text: p.location }));
    if (p.field) item.append(" ", el("strong", { class: "field", text: p.field }));
    item.append(" ", el("span", { class: "message", text: p.message }));
    if (p.hint) item.append(el("span", { class: "hint", text: `Hint: ${p.hint}` }));
    list.append(item);
  }
  return list;
}

function showProblems(panel, heading, summary, problems) {
  panel.replaceChildren(
    el("h2", {}, el("span", { "aria-hidden": "true", text: "⚠ " }), heading),
    el("p", { class: "summary", text: summary }),
    problemList(problems),
    el("p", { class: "recover", text: "Fix the file and save it: this page updates by itself." }),
  );
  panel.hidden = false;
}

// --- index -------------------------------------------------------------------------------

function renderIndex(data) {
  document.title = `${data.name} · Newsletter preview`;
  $("project-name").textContent = data.name;
  const panel = $("project-problems");
  if (data.problems.length) showProblems(panel, "The project has problems", "No issue can be built until these are fixed.", data.problems);
  else panel.hidden = true;
  const rows = data.issues.map((issue) => {
    const status = el("span", { class: "status" });
    if (issue.ok) {
      status.append(el("span", { class: "badge ok", text: `✓ builds · ${kb(issue.size_bytes)}` }));
      if (issue.check_errors) status.append(" ", el("span", { class: "badge error", text: `✗ ${plural(issue.check_errors, "check error")}` }));
      if (issue.check_warnings) status.append(" ", el("span", { class: "badge warning", text: plural(issue.check_warnings, "check warning") }));
    } else {
      status.append(el("span", { class: "badge error", text: `✗ ${plural(issue.problem_count, "problem")}` }));
    }
    return el("tr", { "data-slug": issue.slug },
      el("td", { class: "date", text: longDate(issue.date) }),
      el("th", { scope: "row" }, el("a", { href: `/issues/${encodeURIComponent(issue.slug)}`, text: issue.title })),
      el("td", { class: "subject", text: issue.subject }),
      el("td", {}, status),
      el("td", { class: "send-cell" }, sendBadge(issue.send)));
  });
  $("issues").tBodies[0].replaceChildren(...rows);
  $("issues").hidden = rows.length === 0;
  $("no-issues").hidden = rows.length !== 0;
  $("index-view").hidden = false;
}

// --- issue -------------------------------------------------------------------------------

// The email as a client in this colour scheme shows it. Dark: its prefers-color-scheme
// rules apply (their media queries made always true; light-only ones never) and the
// page's own colours are dark. Inverted: the frame is inverted (style.css) and images
// inverted back, so they look as they are.
function themed(html, colours) {
  if (colours === "dark") {
    const dark = html
      .replace(/\(\s*prefers-color-scheme\s*:\s*dark\s*\)/gi, "(min-width: 0px)")
      .replace(/\(\s*prefers-color-scheme\s*:\s*light\s*\)/gi, "(max-width: 0px)");
    return addToHead(dark, "<style>:root { color-scheme: dark !important; }</style>");
  }
  if (colours === "inverted") return addToHead(html, `<style>img, video, picture { filter: ${INVERT} !important; }</style>`);
  return html;
}

function addToHead(html, markup) {
  return /<head[^>]*>/i.test(html) ? html.replace(/<head([^>]*)>/i, `<head$1>${markup}`) : markup + html;
}

function fillFrame(frame, html) {
  // Links in the email open in a new tab instead of replacing the preview.
  const withBase = addToHead(html, '<base target="_blank">');
  // Keep the reader's place: a save must not jump back to the top of the email.
  const y = frame.contentWindow ? frame.contentWindow.scrollY : 0;
  frame.onload = () => { if (y && frame.contentWindow) frame.contentWindow.scrollTo(0, y); };
  frame.srcdoc = withBase;
}

function renderLanguages(data) {
  // An issue in several languages: which one the email and its page are shown in.
  const languages = data.languages || [];
  $("language-picker").hidden = languages.length < 2;
  const select = $("language");
  select.replaceChildren(...languages.map((tag) => el("option", { value: tag, text: tag })));
  if (data.language) select.value = data.language;
}

function renderReaders(data) {
  const select = $("reader");
  const options = data.readers.map((r) => el("option", { value: r.key, text: r.label }));
  select.replaceChildren(...options);
  select.value = data.reader;
  reader = data.reader;
}

function showScheme() {
  for (const frame of [$("frame-desktop"), $("frame-mobile")]) {
    frame.classList.toggle("inverted", scheme === "inverted");
    frame.dataset.scheme = scheme;
  }
  for (const radio of document.querySelectorAll('input[name="scheme"]')) radio.checked = radio.value === scheme;
  $("scheme-note").textContent = SCHEME_NOTES[scheme];
  $("scheme-note").hidden = !SCHEME_NOTES[scheme];
}

function showWidth() {
  const frame = $("frame-mobile");
  $("width").value = width;
  $("device-desktop").hidden = width !== "";
  frame.style.width = `${width || 375}px`;
  $("mobile-caption").textContent = width ? `Width · ${width} px` : "Mobile · 375 px";
  frame.title = `The email ${width ? "in a frame" : "on a phone"}, ${width || 375} pixels wide`;
  $("device-mobile").dataset.width = width || "375";
}

function renderEmail(email) {
  if (email.html !== shownHtml || scheme !== shownScheme) {
    const html = themed(email.html, scheme);
    fillFrame($("frame-desktop"), html);
    fillFrame($("frame-mobile"), html);
    shownHtml = email.html;
    shownScheme = scheme;
  }
  showScheme();
  showWidth();
  const meter = $("size-meter");
  meter.max = email.clip_bytes;
  meter.high = email.warn_bytes;
  meter.low = email.warn_bytes / 2;
  meter.optimum = 0;
  meter.value = Math.min(email.size_bytes, email.clip_bytes);
  const over = email.size_bytes > email.clip_bytes;
  $("size-text").textContent = `${kb(email.size_bytes)} of ${kb(email.clip_bytes)}: ${over ? "Gmail will clip this email" : "Gmail clips emails above this"}`;
  $("size-text").className = over ? "over" : email.size_bytes > email.warn_bytes ? "near" : "";

  const warnings = email.warnings.map((w) => el("li", { class: "warning", text: w }));
  $("warnings").replaceChildren(...(warnings.length ? warnings : [el("li", { class: "none", text: "No warnings." })]));
  $("text").textContent = email.text;
  $("source").textContent = email.html;
  $("headers").replaceChildren(...email.headers.map(([name, value]) =>
    el("tr", {}, el("th", { scope: "row", text: name }), el("td", {}, el("code", { text: value })))));
  $("token-note").textContent = email.token_note;
}

function renderWeb(web) {
  const html = web ? web.html : null;
  $("web-problem").textContent = web && web.problem ? `The web page could not be made: ${web.problem}` : "";
  $("web-problem").hidden = !(web && web.problem);
  if (html === shownWeb) return;
  for (const frame of [$("frame-web"), $("frame-web-mobile")]) {
    if (html === null) frame.removeAttribute("srcdoc");
    else fillFrame(frame, html);
  }
  shownWeb = html;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function renderFindings(data) {
  const findings = data.checks.findings;
  const items = findings.map((f) => {
    const item = el("li", { class: f.severity },
      el("span", { class: `badge ${f.severity}`, text: f.severity }), " ",
      el("code", { class: "where", text: f.location }));
    if (f.field) item.append(" ", el("strong", { class: "field", text: f.field }));
    item.append(" ", el("span", { class: "message", text: f.message }), " ",
      el("span", { class: "rule", text: `[${f.rule}]` }));
    if (f.hint) item.append(el("span", { class: "hint", text: `Hint: ${f.hint}` }));
    return item;
  });
  const checked = !data.checks.problem;
  $("checks").replaceChildren(...(items.length || !checked ? items : [el("li", { class: "none", text: "Nothing found." })]));
  $("check-problem").textContent = data.checks.problem ? `Not checked: ${data.checks.problem}` : "";
  $("check-problem").hidden = checked;
  const box = $("findings");
  const summary = `build: ${data.email.warnings.length ? plural(data.email.warnings.length, "warning") : "no warnings"} · check: ${
    checked ? `${plural(data.check_errors, "error")}, ${plural(data.check_warnings, "warning")}` : "not run"}`;
  $("findings-summary").textContent = summary;
  box.classList.toggle("has-errors", data.check_errors > 0);
  if (data.check_errors > 0 && (box.dataset.errors ?? "0") === "0") box.open = true; // errors appeared: show them
  box.dataset.errors = String(data.check_errors);
}

// --- results (newsletter results ISSUE → results/<slug>.json) -----------------------------

const RESULT_COLUMNS = [["requests", "requests"], ["delivered", "delivered"], ["unique_opens", "unique opens"],
  ["unique_clicks", "unique clicks"], ["bounces", "bounces"], ["spam_reports", "spam"], ["unsubscribes", "unsubscribes"]];
const SVG = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function renderResults(slug, results) {
  const box = $("results");
  box.hidden = !results;
  if (!results) return;
  const days = results.days;
  $("results-slug").textContent = slug;
  const t = results.totals || {};
  const pct = (a, b) => (b ? `${((100 * a) / b).toFixed(1)}%` : "–");
  $("results-summary").textContent = `${t.delivered ?? 0} delivered · opened by ${pct(t.unique_opens, t.delivered)} · clicked by ${pct(t.unique_clicks, t.delivered)}`;
  $("results-head").replaceChildren(el("th", { text: "date" }), ...RESULT_COLUMNS.map(([, label]) => el("th", { text: label })));
  const row = (label, d) => el("tr", {}, el("th", { text: label }), ...RESULT_COLUMNS.map(([key]) => el("td", { text: String(d[key] ?? 0) })));
  $("results-body").replaceChildren(...days.filter((d) => RESULT_COLUMNS.some(([k]) => d[k])).map((d) => row(d.date, d)), row("total", t));
  const chart = $("results-chart");
  const title = $("results-chart-title");
  chart.replaceChildren(title);
  const top = Math.max(1, ...days.map((d) => d.unique_opens || 0), ...days.map((d) => d.unique_clicks || 0));
  const slot = 600 / Math.max(1, days.length);
  days.forEach((d, i) => {
    for (const [key, shift, cls] of [["unique_opens", 0.1, "opens"], ["unique_clicks", 0.5, "clicks"]]) {
      const h = (110 * (d[key] || 0)) / top;
      const bar = svgEl("rect", { x: i * slot + shift * slot, y: 115 - h, width: slot * 0.4, height: h, class: cls });
      bar.append(svgEl("title", {}));
      bar.firstChild.textContent = `${d.date}: ${d[key] || 0} ${key.replace("_", " ")}`;
      chart.append(bar);
    }
  });
}

// --- the send (from the send journal) ------------------------------------------------------

function sendBadge(send) {
  return el("span", { class: `send ${send.state}`, "data-state": send.state, text: send.text });
}

function renderIssue(data) {
  document.title = `${data.title} · Newsletter preview`;
  const sendState = $("send-state");
  sendState.replaceChildren(el("strong", { text: "Send: " }), sendBadge(data.send));
  sendState.dataset.state = data.send.state;
  sendState.hidden = false;
  const approval = $("approval-state");
  approval.hidden = !data.approval;
  if (data.approval) {
    approval.replaceChildren(el("strong", { text: "Approval: " }),
      el("span", { class: `approval ${data.approval.state}`, text: data.approval.text }));
    approval.dataset.state = data.approval.state;
    approval.title = (data.approval.details || []).join("\n");
  }
  $("project-name").textContent = data.name;
  $("issue-title").textContent = data.title;
  $("issue-date").textContent = data.date ? longDate(data.date) : "no date";
  $("issue-file").textContent = data.file;
  const listProblem = $("list-problem");
  listProblem.textContent = data.list_problem;
  listProblem.hidden = !data.list_problem;
  if (data.email) {
    $("error-panel").hidden = true;
    renderReaders(data);
    renderLanguages(data);
    renderEmail(data.email);
    renderWeb(data.web);
    renderFindings(data);
    renderResults(data.slug, data.results);
    $("email-view").hidden = false;
  } else {
    // Never leave the last good email on screen: an error replaces it entirely.
    $("email-view").hidden = true;
    for (const frame of [$("frame-desktop"), $("frame-mobile")]) frame.removeAttribute("srcdoc");
    shownHtml = null;
    renderWeb(null);
    showProblems($("error-panel"), "This issue does not build", data.summary, data.problems);
  }
  $("issue-view").hidden = false;
  $("missing-view").hidden = true;
}

// --- tabs (WAI-ARIA tabs pattern: arrows, Home and End move between tabs) ----------------

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
  };
  for (const [i, tab] of tabs.entries()) {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const target = tabs[(next + tabs.length) % tabs.length];
      select(target);
      target.focus();
    });
  }
}

// --- loading and live reload -------------------------------------------------------------

async function load() {
  const seq = ++requested;
  const url = route.view === "issue"
    ? `/api/issues/${encodeURIComponent(route.slug)}?as=${encodeURIComponent(reader)}`
      + (language ? `&lang=${encodeURIComponent(language)}` : "")
    : "/api/issues";
  let response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch {
    return; // the server is away; the event stream reconnects and loads again
  }
  if (seq !== requested) return;
  if (response.status === 404) {
    $("issue-view").hidden = true;
    $("missing-view").hidden = false;
    return;
  }
  if (!response.ok) return;
  const data = await response.json();
  if (seq !== requested) return;
  shownVersion = data.version;
  if (route.view === "issue") renderIssue(data);
  else renderIndex(data);
  document.body.dataset.version = String(data.version);
}

function listen() {
  const events = new EventSource("/events");
  events.addEventListener("open", () => setLive("Live: saved changes show here by themselves", "live"));
  events.addEventListener("version", (event) => {
    setLive("Live: saved changes show here by themselves", "live");
    if (Number(event.data) !== shownVersion) load();
  });
  events.addEventListener("error", () => setLive("Reconnecting to the preview server…", "away"));
}

setupTabs();
$("language").addEventListener("change", (event) => {
  language = event.target.value;
  const url = new URL(location.href);
  url.searchParams.set("lang", language);
  history.replaceState(null, "", url);
  load();
});
$("reader").addEventListener("change", (event) => {
  reader = event.target.value;
  const url = new URL(location.href);
  if (reader === "sample") url.searchParams.delete("as");
  else url.searchParams.set("as", reader);
  history.replaceState(null, "", url);
  load();
});
function setParam(name, value) {
  const url = new URL(location.href);
  if (value) url.searchParams.set(name, value);
  else url.searchParams.delete(name);
  history.replaceState(null, "", url);
}
for (const radio of document.querySelectorAll('input[name="scheme"]')) {
  radio.addEventListener("change", () => {
    if (!radio.checked) return;
    scheme = radio.value;
    setParam("colours", scheme === "light" ? "" : scheme);
    load();
  });
}
$("width").addEventListener("change", (event) => {
  width = event.target.value;
  setParam("width", width);
  showWidth();
});
load();
listen();
