// The live explorer: play a game, read the probes layer by layer, edit the model's board and watch the predictions.
// Every number comes from the workbench behind /api (othello-gpt serve); boards are drawn by boards.js, as in the atlas.
// The page's state lives in the URL's hash, so a view can be bookmarked and shared.
"use strict";

window.explorerErrors = [];
window.addEventListener("error", (e) => window.explorerErrors.push(String(e.message)));

const state = { moves: [], redo: [], info: null, position: null, busy: 0 };
const $ = (id) => document.getElementById(id);

async function api(path, body) {
  state.busy++;
  try {
    const response = await fetch(path, body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || `${path}: HTTP ${response.status}`);
    return data;
  } finally {
    state.busy--;
  }
}

function showError(e) { $("error").textContent = e ? e.message || String(e) : ""; }

/** A server board string ("x", "o", "." per square) as the view boards.js draws. */
function viewOf(board, legal, move, next) {
  let black = 0n, white = 0n, legalMask = 0n;
  for (let s = 0; s < 64; s++) {
    if (board[s] === "x") black |= 1n << BigInt(s);
    if (board[s] === "o") white |= 1n << BigInt(s);
  }
  for (const s of legal) legalMask |= 1n << BigInt(s);
  return { black, white, legal: legalMask, move, next };
}

/** Squares from typed text: workbench labels (E5), indices, or standard notation (f5) with the notation select. */
function parseMoves(text, notation) {
  return text.split(/[\s,;]+/).filter(Boolean).map((t) => {
    if (/^\d+$/.test(t)) return Number(t);
    const m = /^([a-h])([0-9])$/i.exec(t);
    if (!m) throw new Error(`"${t}" is not a move: write E5 (row, column 0–7), an index 0–63, or choose a1…h8`);
    if (notation === "standard") {
      const column = m[1].toLowerCase().charCodeAt(0) - 97, row = Number(m[2]) - 1;
      if (row < 0 || row > 7) throw new Error(`"${t}" is not a square in standard notation (a1…h8)`);
      return row * 8 + column;
    }
    const column = Number(m[2]);
    if (column > 7) throw new Error(`"${t}" is not a square (A0…H7)`);
    return (m[1].toUpperCase().charCodeAt(0) - 65) * 8 + column;
  });
}

// ---- URL state -----------------------------------------------------------------------------------------------

const EDIT_FIELDS = ["square", "kind", "method", "hook", "layers", "scale", "lr", "steps", "positions"];

function saveHash() {
  const parts = [`moves=${state.moves.map(label).join(",")}`];
  for (const f of EDIT_FIELDS) { const v = $(`edit-${f}`).value; if (v) parts.push(`${f}=${encodeURIComponent(v)}`); }
  parts.push(`layer=${$("att-layer").value}`, `head=${$("att-head").value}`);
  if ($("attr-square").value) parts.push(`attribute=${encodeURIComponent($("attr-square").value)}`);
  history.replaceState(null, "", "#" + parts.join("&"));
}

function loadHash() {
  const fields = Object.fromEntries(location.hash.replace(/^#/, "").split("&").filter(Boolean).map((p) => p.split("=").map(decodeURIComponent)));
  if (fields.moves) state.moves = parseMoves(fields.moves, "workbench");
  for (const f of EDIT_FIELDS) if (fields[f] !== undefined) $(`edit-${f}`).value = fields[f];
  if (fields.layer !== undefined) $("att-layer").value = fields.layer;
  if (fields.head !== undefined) $("att-head").value = fields.head;
  if (fields.attribute !== undefined) $("attr-square").value = fields.attribute;
  return fields;
}

// ---- Drawing -------------------------------------------------------------------------------------------------

function drawPosition(position) {
  const view = viewOf(position.board, position.legal, state.moves[state.moves.length - 1], position.next);
  const board = positionBoard(view, true);
  board.id = "play-board";
  board.querySelectorAll("[data-square]").forEach((cell) => cell.addEventListener("click", () => clickSquare(Number(cell.dataset.square))));
  $("board").replaceChildren(board);
  $("to-move").textContent = position.next === "-" ? "(game over)" : `(${position.next === "b" ? "black" : "white"} to move)`;
  $("moves").textContent = position.moves.map((m, i) => `${i + 1}. ${m}`).join(" ");
  const prediction = valueBoard(position.probabilities, { colour: "sequential", blankCentre: true, large: true, unit: "P(next move)" });
  prediction.id = "prediction-board";
  markLegal(prediction, position.legal);
  $("prediction").replaceChildren(prediction);
  $("prediction-caption").textContent = `top move ${label(position.top)} (P ${fmt(position.probabilities[position.top])}), ${position.top_legal ? "legal" : "not legal"}; dots: the legal moves`;
  $("probes").replaceChildren(...position.layers.map((reading, l) => {
    const values = reading.mine.map((m, s) => m - reading.theirs[s]);
    const board = valueBoard(values, { unit: "P(mine) − P(theirs)" });
    board.querySelectorAll("[data-square]").forEach((cell) => {
      const s = Number(cell.dataset.square);
      cell.title = `${label(s)} (${standard(s)}): P(mine) ${fmt(reading.mine[s])}, P(theirs) ${fmt(reading.theirs[s])}, P(empty) ${fmt(reading.empty[s])}`;
      if (reading.wrong.includes(s)) cell.classList.add("wrong");
    });
    return boardCard(`L${l} resid_post`, board, `${reading.wrong.length} squares read wrongly`);
  }));
}

function markLegal(board, legal) {
  board.querySelectorAll("[data-square]").forEach((cell) => cell.classList.toggle("legal", legal.includes(Number(cell.dataset.square))));
}

// ---- Actions -------------------------------------------------------------------------------------------------

async function refresh() {
  saveHash();
  showError(null);
  if (state.moves.length === 0) {
    $("board").replaceChildren(positionBoard(viewOf("...........................ox......xo...........................", [19, 26, 37, 44], -1, "b"), true));
    $("board").firstChild.id = "play-board";
    $("board").querySelectorAll("[data-square]").forEach((cell) => cell.addEventListener("click", () => clickSquare(Number(cell.dataset.square))));
    $("to-move").textContent = "(black to move)";
    $("moves").textContent = "";
    $("prediction").replaceChildren();
    $("probes").replaceChildren();
    state.position = null;
    return;
  }
  try {
    state.position = await api("/api/run", { moves: state.moves });
    drawPosition(state.position);
  } catch (e) { showError(e); }
}

async function clickSquare(s) {
  if ($("click-mode").value === "edit") {
    $("edit-square").value = label(s);
    return edit();
  }
  const legal = state.position ? state.position.legal : [19, 26, 37, 44];
  if (!legal.includes(s)) return showError(new Error(`${label(s)} is not a legal move here`));
  state.moves.push(s);
  state.redo = [];
  await refresh();
}

async function edit() {
  showError(null);
  if (!state.moves.length) return showError(new Error("play some moves first"));
  const body = { moves: state.moves, square: $("edit-square").value.trim().toUpperCase(), edit: $("edit-kind").value, method: $("edit-method").value, positions: $("edit-positions").value };
  if ($("edit-layers").value.trim()) body.layers = $("edit-layers").value.trim(); else body.hook = $("edit-hook").value;
  if (body.method === "direction") body.scale = Number($("edit-scale").value);
  else { body.lr = Number($("edit-lr").value); body.steps = Number($("edit-steps").value); }
  saveHash();
  try {
    const r = await api("/api/edit", body);
    const square = parseMoves(body.square, "workbench")[0];
    const before = valueBoard(r.before, { colour: "sequential", blankCentre: true, large: true, unit: "P(next move)" });
    before.id = "before-board";
    markLegal(before, state.position.legal);
    const after = valueBoard(r.after, { colour: "sequential", blankCentre: true, large: true, unit: "P(next move)" });
    after.id = "after-board";
    markLegal(after, r.legal);
    const editedView = viewOf(r.edited_board, r.legal, state.moves[state.moves.length - 1], state.position.next);
    const edited = positionBoard(editedView, true);
    edited.id = "edited-board";
    edited.querySelector(`[data-square="${square}"]`).classList.add("edited");
    $("edit-result").replaceChildren(
      boardCard("before the edit", before, "dots: legal moves on the real board"),
      boardCard("after the edit", after, "dots: legal moves on the edited board"),
      boardCard("the edited board", edited, `${r.label}`),
      el("div", { class: "card", id: "edit-numbers" }, el("h3", {}, "Li et al.'s error"),
        el("p", {}, `edit ${fmt(r.error)} · null edit ${fmt(r.null_error)}`),
        el("p", { class: "caption" }, "False positives + false negatives of the top-N predicted moves against the edited board's N legal moves (intervene eval's error and null_error).")));
  } catch (e) { showError(e); }
}

async function attention() {
  showError(null);
  if (!state.moves.length) return showError(new Error("play some moves first"));
  saveHash();
  try {
    const layer = Number($("att-layer").value), head = Number($("att-head").value);
    const a = await api("/api/attention", { moves: state.moves, layer, head });
    const body = { moves: state.moves };
    if ($("attr-square").value.trim()) body.square = $("attr-square").value.trim().toUpperCase();
    const attribution = await api("/api/attribution", body);
    const T = a.pattern.length;
    const canvas = el("canvas", { width: T, height: T, class: "matrix", style: `width: ${Math.max(180, 6 * T)}px; height: ${Math.max(180, 6 * T)}px`, id: "attention-matrix" });
    const ctx = canvas.getContext("2d"), image = ctx.createImageData(T, T);
    const top = Math.max(1e-9, ...a.pattern.flat());
    a.pattern.flat().forEach((v, i) => { const c = Math.round(255 * (1 - v / top)); image.data.set([255, c, c, 255], 4 * i); });
    ctx.putImageData(image, 0, 0);
    const last = a.pattern[T - 1].map((v, k) => `${k + 1}. ${label(state.moves[k])} ${fmt(v)}`).filter((_, k) => a.pattern[T - 1][k] > 0.05);
    const grid = el("table", { class: "grid", id: "attribution-grid" }, el("tr", {}, el("th", {}, "layer \\ head"), attribution.heads[0].map((_, h) => el("th", {}, h))),
      attribution.heads.map((row, l) => el("tr", {}, el("th", {}, l), row.map((v) => el("td", { style: `background: ${diverging(v, Math.max(...attribution.heads.flat().map(Math.abs)))}` }, fmt(v))))));
    const atlas = state.info.atlas;
    $("attention").replaceChildren(
      el("div", { class: "card" }, el("h3", {}, `L${layer}H${head}: attention (row = query, column = key)`), canvas,
        el("p", { class: "caption" }, `From the last move to: ${last.join(", ") || "(spread out)"}`)),
      el("div", { class: "card" }, el("h3", {}, `Direct logit attribution to ${label(attribution.square)}`), grid,
        el("ul", {}, attribution.neurons.map((n) => el("li", {}, atlas ? el("a", { href: `${atlas}#/neuron/${n.id}`, target: "_blank" }, n.id) : n.id, ` ${fmt(n.attribution)}`)))));
  } catch (e) { showError(e); }
}

async function randomGame() {
  state.moves = [];
  state.redo = [];
  let legal = [19, 26, 37, 44];
  while (legal.length && state.moves.length < state.info.model.n_ctx) {
    state.moves.push(legal[Math.floor(Math.random() * legal.length)]);
    const position = await api("/api/run", { moves: state.moves });
    legal = position.legal;
  }
  await refresh();
}

// ---- Start ---------------------------------------------------------------------------------------------------

async function start() {
  state.info = await api("/api/model");
  const m = state.info.model;
  $("model").textContent = `${m.layers} layers, d_model ${m.d_model}, ${m.heads} heads, d_mlp ${m.d_mlp}; probes at ${m.probes.length} hooks`;
  if (state.info.atlas) { $("atlas-link").hidden = false; $("atlas-link").href = state.info.atlas; }
  $("edit-hook").replaceChildren(...m.edit_hooks.map((h) => el("option", { value: h }, h)));
  $("edit-hook").value = `blocks.${Math.min(4, m.layers - 1)}.hook_resid_post`;
  $("att-layer").replaceChildren(...Array.from({ length: m.layers }, (_, l) => el("option", { value: l }, l)));
  $("att-head").replaceChildren(...Array.from({ length: m.heads }, (_, h) => el("option", { value: h }, h)));
  const fields = loadHash();
  $("undo").addEventListener("click", () => { if (state.moves.length) { state.redo.push(state.moves.pop()); refresh(); } });
  $("redo").addEventListener("click", () => { if (state.redo.length) { state.moves.push(state.redo.pop()); refresh(); } });
  $("reset").addEventListener("click", () => { state.moves = []; state.redo = []; refresh(); });
  $("random").addEventListener("click", () => randomGame().catch(showError));
  $("load").addEventListener("submit", (e) => {
    e.preventDefault();
    try { state.moves = parseMoves($("moves-box").value, $("notation").value); state.redo = []; refresh(); } catch (err) { showError(err); }
  });
  if (state.info.games > 0) {
    $("load-game").hidden = false;
    $("game-count").textContent = state.info.games;
    $("load-game").addEventListener("submit", async (e) => {
      e.preventDefault();
      try {
        const game = await api(`/api/games/${Number($("game-number").value)}`);
        state.moves = parseMoves(game.moves.slice(0, m.n_ctx).join(" "), "workbench");
        state.redo = [];
        await refresh();
      } catch (err) { showError(err); }
    });
  }
  $("edit-go").addEventListener("click", edit);
  $("att-go").addEventListener("click", attention);
  await refresh();
  if (fields.square && state.moves.length) await edit();
  window.explorerReady = true;
}

start().catch((e) => { window.explorerErrors.push(String(e)); showError(e); });
