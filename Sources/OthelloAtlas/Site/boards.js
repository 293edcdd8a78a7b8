// Boards and small helpers shared by the atlas (atlas.js) and the live explorer (explorer.js): one drawing of a
// board for both, each square an element with data-square="0…63" and a title, so tests and screen readers can read it.
"use strict";

// ---- Small helpers -------------------------------------------------------------------------------------------

/** An element: el("div", {class: "x"}, child, "text", …). */
function el(tag, attributes, ...children) {
  const node = document.createElementNS(tag === "svg" || el.svg.has(tag) ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  return node;
}
el.svg = new Set(["rect", "line", "polyline", "text", "g", "path"]);

const ROWS = "ABCDEFGH", COLUMNS = "abcdefgh";
/** The workbench's label of square s (row letter, column digit: A0…H7), and standard notation (column letter, row 1–8). */
const label = (s) => ROWS[s >> 3] + (s & 7);
const standard = (s) => COLUMNS[s & 7] + ((s >> 3) + 1);
const CENTRE = new Set([27, 28, 35, 36]);

function fmt(v, digits = 3) {
  if (v === null || v === undefined || (typeof v === "number" && isNaN(v))) return "–";
  if (typeof v !== "number") return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1000 || a < 0.001 ? v.toExponential(2) : Number(v.toPrecision(digits)).toString();
}
const pct = (v) => (v === null || v === undefined || isNaN(v) ? "–" : (100 * v).toFixed(1) + "%");

/** A quantized board's 64 values: scale × byte / 127. */
function decode(board) {
  if (!board) return null;
  const bytes = atob(board.q);
  const out = new Array(64);
  for (let i = 0; i < 64; i++) {
    const b = bytes.charCodeAt(i);
    out[i] = (board.scale * (b > 127 ? b - 256 : b)) / 127;
  }
  return out;
}

/** Diverging colour: white at 0, red for +scale, blue for −scale (the same rule the browser test checks). */
function diverging(v, scale) {
  const t = scale > 0 ? Math.max(-1, Math.min(1, v / scale)) : 0;
  const fade = Math.round(255 * (1 - Math.abs(t)));
  return t >= 0 ? `rgb(255, ${fade}, ${fade})` : `rgb(${fade}, ${fade}, 255)`;
}
/** Sequential colour for shares and probabilities: white at `low`, dark green at `high`. */
function sequential(v, low, high = 1) {
  const t = Math.max(0, Math.min(1, (v - low) / Math.max(1e-9, high - low)));
  return `rgb(${Math.round(255 - 215 * t)}, ${Math.round(255 - 115 * t)}, ${Math.round(255 - 195 * t)})`;
}

// ---- Boards --------------------------------------------------------------------------------------------------

function boardFrame(kind, large) {
  const board = el("div", { class: `board ${kind}${large ? " large" : ""}`, role: "grid" });
  board.append(el("div", { class: "axis" }));
  for (let c = 0; c < 8; c++) board.append(el("div", { class: "axis" }, c));
  return board;
}

/**
 * A board of 64 numbers: one cell per square with data-square, data-value and a title, coloured by value.
 * options: {colour: "diverging" | "sequential", blankCentre: true for move boards (the 4 centre squares are never moves), unit: "…"}
 */
function valueBoard(values, options = {}) {
  const board = boardFrame("values", options.large);
  const finite = values.filter((v, s) => isFinite(v) && !(options.blankCentre && CENTRE.has(s)));
  const scale = Math.max(1e-12, ...finite.map(Math.abs));
  const low = Math.min(...finite), high = Math.max(...finite);
  for (let s = 0; s < 64; s++) {
    if (s % 8 === 0) board.append(el("div", { class: "axis" }, ROWS[s >> 3]));
    const v = values[s];
    const na = (options.blankCentre && CENTRE.has(s)) || !isFinite(v);
    const title = `${label(s)} (${standard(s)}): ${na ? (options.blankCentre && CENTRE.has(s) ? "never a move" : "no value") : fmt(v)}${options.unit ? " " + options.unit : ""}`;
    const cell = el("div", { class: na ? "sq na" : "sq", "data-square": s, title, role: "gridcell", "aria-label": title });
    if (!na) {
      cell.dataset.value = String(v);
      cell.style.background = options.colour === "sequential" ? sequential(v, low, high) : diverging(v, scale);
    }
    board.append(cell);
  }
  return board;
}

/** A position as written: [game, position, activation, black, white, next, move, legal], masks in hex (bit = square). */
function positionView(a) {
  return { game: a[0], position: a[1], activation: a[2], black: BigInt("0x" + a[3]), white: BigInt("0x" + a[4]), next: a[5], move: a[6], legal: BigInt("0x" + a[7]) };
}
const bit = (mask, s) => ((mask >> BigInt(s)) & 1n) === 1n;

/** A position from the rules engine: discs, the last move outlined, the legal moves of the player to move dotted. */
function positionBoard(view, large) {
  const board = boardFrame("position", large);
  for (let s = 0; s < 64; s++) {
    if (s % 8 === 0) board.append(el("div", { class: "axis" }, ROWS[s >> 3]));
    const state = bit(view.black, s) ? "x" : bit(view.white, s) ? "o" : ".";
    const isLegal = bit(view.legal, s);
    const words = [state === "x" ? "black" : state === "o" ? "white" : "empty"];
    if (s === view.move) words.push("last move");
    if (isLegal) words.push("legal");
    const title = `${label(s)} (${standard(s)}): ${words.join(", ")}`;
    const cell = el("div", { class: "sq" + (s === view.move ? " last" : "") + (isLegal ? " legal" : ""), "data-square": s, "data-state": state, title, role: "gridcell", "aria-label": title });
    if (state !== ".") cell.append(el("div", { class: "disc" }));
    board.append(cell);
  }
  return board;
}

function boardCard(title, board, caption) {
  return el("div", { class: "card" }, el("h3", {}, title), board, caption ? el("div", { class: "caption" }, caption) : null);
}

