// A student's answer to the class question (ui/answerbox.py): the options as buttons and a
// Send button; the answer goes to the class API (services/classapi.py) as one POST, with no
// script run, and the reply is shown under the button. Options, names and errors are always
// set as plain text (textContent), never as HTML.
// data: {options: [str], horizontal: bool, mine: int|null, url: str, body: {...}}
const CSS = `
.ab { font-family: inherit; color: inherit; }
.ab-opts { display: flex; flex-direction: column; gap: 8px; margin: 4px 0 10px; }
.ab-opts.ab-row { flex-direction: row; flex-wrap: wrap; }
.ab-opt { font: inherit; font-size: 1rem; text-align: left; min-height: 44px; padding: 8px 12px;
  border: 1px solid rgba(49, 51, 63, 0.3); border-radius: 8px; background: #fff; color: inherit;
  cursor: pointer; }
.ab-row .ab-opt { min-width: 64px; text-align: center; font-weight: 600; }
.ab-opt[aria-checked="true"] { border: 2px solid #ff4b4b; background: #fff3f3; }
.ab-opt:focus-visible, .ab-send:focus-visible { outline: 3px solid #1c83e1; outline-offset: 2px; }
.ab-send { font: inherit; font-size: 1rem; width: 100%; min-height: 44px; border-radius: 8px;
  border: 1px solid rgba(49, 51, 63, 0.3); background: #fff; cursor: pointer; }
.ab-send:disabled { color: rgba(49, 51, 63, 0.4); cursor: not-allowed; }
.ab-status { font-size: 0.9rem; margin-top: 6px; min-height: 1.3em; color: rgba(49, 51, 63, 0.7); }
.ab-status.ab-bad { color: #b71c1c; }
`;

export default function (component) {
  const { data, parentElement } = component;
  let w = parentElement.__answerbox;
  if (!w || w.round !== JSON.stringify(data.body)) {  // a new question: draw afresh
    parentElement.replaceChildren();
    const style = document.createElement("style");
    style.textContent = CSS;
    const root = document.createElement("div");
    root.className = "ab";
    parentElement.append(style, root);
    w = parentElement.__answerbox = {round: JSON.stringify(data.body), root, mine: data.mine,
                                     pick: data.mine, busy: false};
    const opts = document.createElement("div");
    opts.className = "ab-opts" + (data.horizontal ? " ab-row" : "");
    opts.setAttribute("role", "radiogroup");
    opts.setAttribute("aria-label", "Your answer");
    w.buttons = data.options.map((text, k) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "ab-opt";
      b.setAttribute("role", "radio");
      b.textContent = text;
      b.addEventListener("click", () => { w.pick = k; draw(w); });
      opts.appendChild(b);
      return b;
    });
    w.send = document.createElement("button");
    w.send.type = "button";
    w.send.className = "ab-send";
    w.send.addEventListener("click", () => send(w));
    w.status = document.createElement("div");
    w.status.className = "ab-status";
    w.status.setAttribute("role", "status");
    root.append(opts, w.send, w.status);
    w.note = "";
  }
  w.data = data;
  draw(w);
}

function draw(w) {
  w.buttons.forEach((b, k) => b.setAttribute("aria-checked", String(k === w.pick)));
  w.send.textContent = w.busy ? "Sending…" : (w.mine === null || w.mine === undefined
    ? "Send my answer" : "Change my answer");
  w.send.disabled = w.busy || w.pick === null || w.pick === undefined || w.pick === w.mine;
  const letter = (k) => "ABCDEF"[k];
  w.status.classList.toggle("ab-bad", !!w.bad);
  w.status.textContent = w.note || (w.mine === null || w.mine === undefined ? ""
    : `Your answer: ${letter(w.mine)}. You can change it until the lecturer reveals the answer.`);
}

async function send(w) {
  const choice = w.pick, t0 = performance.now();
  w.busy = true; w.note = ""; w.bad = false; draw(w);
  let a;
  try {
    const r = await fetch(w.data.url, {method: "POST", headers: {"Content-Type": "application/json"},
                                       body: JSON.stringify({...w.data.body, choice})});
    a = await r.json().catch(() => ({ok: false, error: `the server answered ${r.status}`}));
  } catch (e) {
    a = {ok: false, error: "the server cannot be reached; try again"};
  }
  (window.__latentlabAnswerLat = window.__latentlabAnswerLat || []).push(performance.now() - t0);
  w.busy = false;
  if (a.ok) w.mine = choice;
  else {
    w.bad = true;
    w.note = a.retry_after_s !== undefined
      ? `Wait ${Number(a.retry_after_s).toFixed(1)} s, then send again.`
      : `Your answer was not counted: ${String(a.error || "unknown error").slice(0, 300)}`;
  }
  draw(w);
}
