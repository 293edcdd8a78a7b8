// The Othello-GPT atlas: pages for every neuron, head, SAE feature and probe, drawn from the data files that
// `othello-gpt scope` writes beside this script. Plain JavaScript, no build step, no network: each data file is a
// script calling atlasData(name, value), so the pages work from file:// as from any static host.
"use strict";

// ---- Data loading --------------------------------------------------------------------------------------------

const store = { data: {}, waiting: {} };
// Errors are kept where a test (or a curious reader) can find them: window.atlasErrors.
window.atlasErrors = [];
window.addEventListener("error", (e) => window.atlasErrors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => window.atlasErrors.push(String(e.reason)));

function atlasData(name, value) {
  store.data[name] = value;
  for (const resolve of store.waiting[name] || []) resolve(value);
  delete store.waiting[name];
}

/** Loads data/NAME.js once; resolves with its value. */
function load(name) {
  if (name in store.data) return Promise.resolve(store.data[name]);
  return new Promise((resolve, reject) => {
    const first = !store.waiting[name];
    (store.waiting[name] = store.waiting[name] || []).push(resolve);
    if (!first) return;
    const script = document.createElement("script");
    script.src = `data/${name}.js`;
    script.onerror = () => reject(new Error(`missing data file data/${name}.js`));
    document.head.appendChild(script);
  });
}

function boardsRow(entries, options) {
  return el("div", { class: "row" }, entries.filter(([, b]) => b).map(([title, board, caption]) => boardCard(title, valueBoard(decode(board), options), caption)));
}

/** The top-activating positions, each a small board with who moves next and the activation. */
function topPositions(views, index) {
  if (!views.length) return el("p", { class: "muted" }, "Never active on these games.");
  return el("div", { class: "row top" }, views.map(positionView).map((v) => {
    const caption = el("div", { class: "caption" },
      `activation ${fmt(v.activation)} · ${v.next === "b" ? "black" : v.next === "w" ? "white" : "nobody"} to move · game ${v.game}, move ${v.position + 1} (${label(v.move)})`);
    const card = el("div", { class: "card example", "data-game": v.game, "data-position": v.position }, positionBoard(v), caption);
    if (index.explorer) {
      load("games").then((g) => {
        const moves = g.games[v.game].split(" ").slice(0, v.position + 1).join(",");
        caption.append(" · ", el("a", { href: `${index.explorer}#moves=${moves}`, target: "_blank" }, "open in the explorer"));
      });
    }
    return card;
  }));
}

// ---- Charts --------------------------------------------------------------------------------------------------

/** A histogram; bar heights on a log scale (activations pile up near zero). */
function histogram(h, title) {
  const total = h.counts.reduce((a, b) => a + b, 0);
  const width = 300, height = 90, n = h.counts.length, top = Math.log1p(Math.max(1, ...h.counts));
  const svg = el("svg", { width, height: height + 16, class: "histogram", role: "img", "aria-label": title });
  h.counts.forEach((c, i) => {
    const bh = (height * Math.log1p(c)) / top, lower = h.lower + ((h.upper - h.lower) * i) / n;
    svg.append(el("rect", { class: "bar", x: (i * width) / n, y: height - bh, width: width / n - 1, height: bh },
      el("title", {}, `${fmt(lower)} … ${fmt(lower + (h.upper - h.lower) / n)}: ${c}`)));
  });
  svg.append(el("text", { x: 0, y: height + 12 }, fmt(h.lower)), el("text", { x: width - 40, y: height + 12 }, fmt(h.upper)));
  return el("div", { class: "card" }, el("h3", {}, title), svg, el("div", { class: "caption" }, `${total} sampled positions (log scale)`));
}

function lineChart(series, title, yLabel) {
  const width = 420, height = 140, pad = 28;
  const all = series.flatMap((s) => s.values.filter((v) => isFinite(v)));
  const lo = Math.min(...all), hi = Math.max(...all, lo + 1e-9);
  const n = Math.max(...series.map((s) => s.values.length));
  const svg = el("svg", { width, height: height + pad, role: "img", "aria-label": title });
  const colours = ["#2d6aa3", "#c4473a", "#3c8d4f", "#8a56b0"];
  series.forEach((s, k) => {
    const points = s.values.map((v, i) => (isFinite(v) ? `${pad + (i * (width - pad)) / Math.max(1, n - 1)},${height - ((v - lo) / (hi - lo)) * (height - 10)}` : null)).filter(Boolean);
    svg.append(el("polyline", { points: points.join(" "), fill: "none", stroke: colours[k % 4], "stroke-width": 1.6 }));
    svg.append(el("text", { x: pad + 5 + 120 * k, y: height + 22, fill: colours[k % 4] }, s.name));
  });
  svg.append(el("text", { x: 0, y: 10 }, fmt(hi)), el("text", { x: 0, y: height }, fmt(lo)), el("text", { x: width - 80, y: height + 10 }, yLabel));
  return el("div", { class: "card" }, el("h3", {}, title), svg);
}

function barChart(values, title, labels) {
  const width = 420, height = 100, n = values.length, top = Math.max(1e-9, ...values);
  const svg = el("svg", { width, height: height + 16, role: "img", "aria-label": title });
  values.forEach((v, i) => {
    const bh = (height * v) / top;
    svg.append(el("rect", { class: "bar", x: (i * width) / n, y: height - bh, width: width / n - 1, height: bh }, el("title", {}, `${labels(i)}: ${fmt(v)}`)));
  });
  svg.append(el("text", { x: 0, y: height + 12 }, labels(0)), el("text", { x: width - 60, y: height + 12 }, labels(n - 1)));
  return el("div", { class: "card" }, el("h3", {}, title), svg);
}

// ---- Tables --------------------------------------------------------------------------------------------------

/**
 * A sortable, filterable table. columns: [{key, name, text?}], rows: objects with those keys and `href`.
 * Filters are clauses like "rule_r2 > 0.7 and frequency < 0.1" over the column keys.
 */
function unitTable(columns, rows, options = {}) {
  let sortKey = options.sort || columns[0].key, descending = options.descending ?? false, shown = 100;
  const filterBox = el("input", { type: "text", placeholder: `filter, e.g. ${options.example || columns[1].key + " > 0.5"}`, "aria-label": "filter" });
  const count = el("span", { class: "muted" });
  const message = el("span", { class: "error" });
  const table = el("table", { class: "units" });
  const more = el("button", { type: "button" }, "show more");
  function clauses() {
    const text = filterBox.value.trim();
    if (!text) return [];
    return text.split(/\s+and\s+|,/i).map((clause) => {
      const m = clause.trim().match(/^([a-z_0-9]+)\s*(<=|>=|!=|=|<|>)\s*(\S+)$/i);
      if (!m || !columns.some((c) => c.key === m[1])) throw new Error(`cannot read "${clause.trim()}": write column op value, columns ${columns.map((c) => c.key).join(", ")}`);
      const value = isNaN(Number(m[3])) ? m[3] : Number(m[3]);
      return [m[1], m[2], value];
    });
  }
  const test = { "<": (a, b) => a < b, ">": (a, b) => a > b, "<=": (a, b) => a <= b, ">=": (a, b) => a >= b, "=": (a, b) => a == b, "!=": (a, b) => a != b };
  function render() {
    let filtered = rows;
    message.textContent = "";
    try {
      const cs = clauses();
      filtered = rows.filter((r) => cs.every(([k, op, v]) => test[op](r[k], v)));
    } catch (e) { message.textContent = e.message; }
    filtered = filtered.slice().sort((a, b) => {
      const x = a[sortKey], y = b[sortKey];
      const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return descending ? -order : order;
    });
    count.textContent = `${filtered.length} of ${rows.length}`;
    table.replaceChildren(el("thead", {}, el("tr", {}, columns.map((c) =>
      el("th", { "data-key": c.key, title: c.help || "", onclick: () => { descending = sortKey === c.key ? !descending : true; sortKey = c.key; render(); } },
        c.name + (sortKey === c.key ? (descending ? " ▾" : " ▴") : ""))))));
    const body = el("tbody");
    for (const r of filtered.slice(0, shown)) {
      body.append(el("tr", {}, columns.map((c, i) => el("td", { class: c.text ? "text" : null },
        i === 0 ? el("a", { href: r.href }, r[c.key]) : c.show ? c.show(r) : typeof r[c.key] === "number" ? fmt(r[c.key]) : r[c.key]))));
    }
    table.append(body);
    more.style.display = filtered.length > shown ? "" : "none";
  }
  filterBox.addEventListener("input", render);
  more.addEventListener("click", () => { shown += 200; render(); });
  render();
  return el("div", { class: "table" }, el("div", { class: "controls" }, filterBox, count, message), table, more);
}

// ---- Pages ---------------------------------------------------------------------------------------------------

const page = () => document.getElementById("page");
const KIND_NAMES = { mine_theirs: "mine − theirs", empty: "empty", flipped: "flipped", legal: "legal" };

function neuronRows(index, layer) {
  const c = index.neurons[layer];
  return c.mean.map((_, n) => ({
    id: `L${layer}N${n}`, href: `#/neuron/L${layer}N${n}`, mean: c.mean[n], frequency: c.frequency[n], maximum: c.maximum[n],
    rule_r2: c.rule_r2[n], rule: c.rule[n], logit: c.logit[n], logit_square: label(c.logit_square[n]),
    output_cosine: c.output_cosine.length ? c.output_cosine[n] : NaN, output_square: c.output_square.length ? label(c.output_square[n]) : "",
  }));
}

function renderIndex(index, route) {
  const layer = Math.min(index.model.layers - 1, Number(route.layer || 0));
  const m = index.model;
  const out = [el("h1", {}, `${m.name}: ${m.layers} layers, d_model ${m.d_model}, ${m.heads} heads, d_mlp ${m.d_mlp}`),
    el("p", { class: "muted" }, `${index.games} games, ${index.positions} positions (seed ${index.seed}). ${m.layers * m.d_mlp} neurons, ${m.layers * m.heads} heads, ${index.saes.reduce((a, s) => a + s.d_sae, 0)} SAE features.`)];
  if (index.findings.length) {
    out.push(el("h2", {}, "The study's findings"), el("ul", {}, index.findings.map((f) => el("li", {}, el("b", {}, f.question + " "), f.answer))));
    if (index.study) out.push(el("p", {}, el("a", { href: index.study }, "The study's report")));
  }
  out.push(el("h2", { id: "neurons" }, "Neurons"));
  out.push(el("div", { class: "controls" }, "Layer:", ...Array.from({ length: m.layers }, (_, l) =>
    l === layer ? el("b", {}, ` ${l} `) : el("a", { href: `#/layer/${l}` }, ` ${l} `))));
  out.push(unitTable([
    { key: "id", name: "neuron" }, { key: "mean", name: "mean" }, { key: "frequency", name: "frequency", help: "share of positions where it is positive" },
    { key: "maximum", name: "max" }, { key: "rule_r2", name: "rule R²", help: "held-out R² of the depth-3 rule" },
    { key: "rule", name: "rule's first test", text: true }, { key: "logit", name: "top logit effect", show: (r) => `${fmt(r.logit)} (${r.logit_square})` },
    { key: "output_cosine", name: "output · mine−theirs", show: (r) => `${fmt(r.output_cosine)} (${r.output_square})` },
  ], neuronRows(index, layer), { sort: "rule_r2", descending: true, example: "rule_r2 > 0.7 and frequency < 0.2" }));
  out.push(el("h2", { id: "heads" }, "Attention heads"));
  out.push(unitTable([
    { key: "id", name: "head" }, { key: "previous_move", name: "previous move" }, { key: "mine", name: "to mine" }, { key: "theirs", name: "to theirs" },
    { key: "first_position", name: "first position" }, { key: "duplicate_token", name: "duplicate token" }, { key: "induction", name: "induction" },
  ], index.heads.map((h) => ({ id: h.id, href: `#/head/${h.id}`, ...h.scores })), { sort: "previous_move", descending: true, example: "mine > 0.8" }));
  index.saes.forEach((s, i) => {
    out.push(el("h2", { id: `sae-${i}` }, `SAE ${i}: ${s.name}`));
    out.push(el("p", {}, `${s.kind} at ${s.hook}, ${s.d_sae} features: explained variance ${fmt(s.explained_variance)}, L0 ${fmt(s.l0)}, loss recovered ${fmt(s.loss_recovered)}, board reconstruction F1 ${fmt(s.reconstruction_f1)}, coverage ${Object.entries(s.coverage).map(([k, v]) => `${k} ${fmt(v)}`).join(", ")}.`));
    out.push(unitTable([{ key: "id", name: "feature" }, { key: "frequency", name: "frequency" }, { key: "maximum", name: "max" },
      { key: "best_f1", name: "best F1" }, { key: "best", name: "best board property", text: true }],
    s.frequency.map((f, k) => ({ id: `F${k}`, href: featureHref(i, k), frequency: f, maximum: s.maximum[k], best_f1: s.best_f1[k], best: s.best[k] })),
    { sort: "best_f1", descending: true, example: "best_f1 > 0.9" }));
  });
  out.push(el("h2", {}, "Probes"), el("p", {}, el("a", { href: "#/probes" }, `${index.probes.length} linear probes`), " scored on held-out games: accuracy by layer, per square, by move and player, whole boards."));
  return out;
}

const featureHref = (sae, f) => (sae === 0 ? `#/sae/F${f}` : `#/sae/${sae}/F${f}`);

async function renderNeuron(index, layer, n) {
  if (!(layer >= 0 && layer < index.model.layers && n >= 0 && n < index.model.d_mlp)) throw new Error(`no neuron L${layer}N${n}: the model has layers 0–${index.model.layers - 1} and neurons 0–${index.model.d_mlp - 1}`);
  const chunk = await load(`neurons/L${layer}-${String(Math.floor(n / index.chunk)).padStart(3, "0")}`);
  const u = chunk.units[n % index.chunk];
  const out = [el("h1", {}, `Neuron ${u.id}`, " ", el("span", { class: "muted" }, `blocks.${layer}.mlp.hook_post[${n}]`)),
    el("p", {}, n > 0 ? el("a", { href: `#/neuron/L${layer}N${n - 1}` }, "← previous") : "", " ", n + 1 < index.model.d_mlp ? el("a", { href: `#/neuron/L${layer}N${n + 1}` }, "next →") : ""),
    el("table", { class: "stats" }, el("tr", {}, el("td", {}, "mean"), el("td", {}, fmt(u.mean)), el("td", {}, "frequency (> 0)"), el("td", {}, pct(u.frequency)), el("td", {}, "max"), el("td", {}, fmt(u.maximum))))];
  out.push(el("h2", {}, "Rule"), el("pre", { class: "rule" }, u.rule.lines.join("\n")),
    el("p", { class: "muted" }, `A depth-${3} regression tree over board features (mine / theirs / empty / legal / flipped / played per square), R² ${fmt(u.rule.r2)} on held-out positions.`));
  out.push(el("h2", {}, "Output weights through the unembedding"),
    el("div", { class: "row" }, boardCard("direct logit effect (W_out · W_U)", valueBoard(decode(u.logit), { blankCentre: true, large: true }), "per move square; the four centre squares are never moves"),
      histogram(u.histogram, "activation histogram")));
  out.push(el("h2", {}, "Weights in the probe bases"), el("p", { class: "muted" }, "Cosine of the input direction (W_in column) with the resid_mid probe's directions, and of the output direction (W_out row) with the resid_post probe's."));
  out.push(boardsRow(Object.keys(KIND_NAMES).map((k) => [`input · ${KIND_NAMES[k]}`, u.input[k]]), {}));
  out.push(boardsRow(Object.keys(KIND_NAMES).map((k) => [`output · ${KIND_NAMES[k]}`, u.output[k]]), {}));
  // Conditioned means as differences from the overall mean: red where the state raises the activation.
  const relative = (board) => { const v = decode(board); return v && v.map((x) => x - u.mean); };
  out.push(el("h2", {}, "Mean activation given each square's state"),
    el("p", { class: "muted" }, `The mean activation over the positions where the square is in that state, minus the overall mean (${fmt(u.mean)}); hover for the value.`),
    el("div", { class: "row" }, ["mine", "theirs", "empty", "legal", "flipped", "played"].filter((c) => u.conditioned[c]).map((c) =>
      boardCard(`given ${c}`, valueBoard(relative(u.conditioned[c]), { unit: "above the mean" })))));
  out.push(el("h2", {}, `Top ${u.top.length} activating positions`), topPositions(u.top, index));
  return out;
}

function renderHead(index, layer, h) {
  const head = index.heads.find((x) => x.layer === layer && x.head === h);
  if (!head) throw new Error(`no head L${layer}H${h}: the model has layers 0–${index.model.layers - 1} and heads 0–${index.model.heads - 1}`);
  const s = head.scores;
  return [el("h1", {}, `Head ${head.id}`, " ", el("span", { class: "muted" }, `blocks.${layer}.attn, head ${h}`)),
    el("table", { class: "stats" }, Object.entries(s).map(([k, v]) => el("tr", {}, el("td", {}, k.replace(/_/g, " ")), el("td", {}, fmt(v))))),
    el("p", { class: "muted" }, "Mean attention on real games: to the previous move, to moves of the player who moves next (mine) and of the other player (theirs), to position 0; duplicate-token and induction scores on repeated random tokens."),
    el("h2", {}, "Attention by distance"), barChart(head.by_distance.slice(0, 30), "mean attention to the move k before", (k) => `k = ${k}`),
    el("h2", {}, "What it writes in the probe bases"),
    el("p", { class: "muted" }, "Mean |projection| of the head's output (z · W_O) on each square's unit probe direction of its layer's resid_post."),
    boardsRow(Object.keys(KIND_NAMES).map((k) => [KIND_NAMES[k], head.writes[k]]), { colour: "sequential" })];
}

async function renderFeature(index, sae, f) {
  const s = index.saes[sae];
  if (!s) throw new Error(`no SAE ${sae}: the atlas has ${index.saes.length}`);
  if (!(f >= 0 && f < s.d_sae)) throw new Error(`no feature F${f}: SAE ${sae} has features 0–${s.d_sae - 1}`);
  const chunk = await load(`sae-${sae}/F-${String(Math.floor(f / index.feature_chunk)).padStart(3, "0")}`);
  const u = chunk.units[f % index.feature_chunk];
  const link = (id) => (id.startsWith("F") ? featureHref(sae, Number(id.slice(1))) : `#/neuron/${id}`);
  const neighbours = (list) => el("ul", {}, list.map((x) => el("li", {}, el("a", { href: link(x.id) }, x.id), ` cosine ${fmt(x.cosine)}`)));
  return [el("h1", {}, `Feature ${u.id}`, " ", el("span", { class: "muted" }, `SAE ${sae} (${s.name}, ${s.hook})`)),
    el("table", { class: "stats" }, el("tr", {}, el("td", {}, "frequency"), el("td", {}, pct(u.frequency)), el("td", {}, "max"), el("td", {}, fmt(u.maximum)),
      el("td", {}, "best board property"), el("td", {}, u.best ? `${u.best} (F1 ${fmt(u.best_f1)})` : "–"))),
    el("div", { class: "row" }, u.logit ? boardCard("logit effect (decoder · W_U)", valueBoard(decode(u.logit), { blankCentre: true, large: true }), "per move square") : null,
      histogram(u.histogram, "activation histogram (positive values)")),
    el("h2", {}, "Decoder direction in the probe bases"), boardsRow(Object.keys(KIND_NAMES).map((k) => [KIND_NAMES[k], u.cosines[k]]), {}),
    el("h2", {}, `Top ${u.top.length} activating positions`), topPositions(u.top, index),
    el("h2", {}, "Nearest"), el("div", { class: "row" }, el("div", {}, el("h3", {}, "features (decoder cosine)"), neighbours(u.nearest_features)),
      el("div", {}, el("h3", {}, "neurons"), neighbours(u.nearest_neurons)))];
}

async function renderProbes(index) {
  const data = await load("probes");
  const relative = data.probes.filter((p) => p.basis === "relative");
  const out = [el("h1", {}, "Probes"), index.study ? el("p", {}, el("a", { href: index.study }, "The study's report"), " has the probe sweep (linear and MLP, every basis) with its controls.") : null,
    el("p", { class: "muted" }, `Linear probes scored on ${data.games} fresh held-out games. Per-square accuracy counts each of the 64 squares of each position; whole-board accuracy counts positions with all 64 right — papers quote both.`)];
  out.push(el("table", { class: "units" }, el("thead", {}, el("tr", {}, ["hook", "basis", "accuracy", "whole board", "black to move", "white to move"].map((h) => el("th", {}, h)))),
    el("tbody", {}, data.probes.map((p) => el("tr", {}, el("td", {}, p.hook), el("td", {}, p.basis), el("td", {}, pct(p.accuracy)), el("td", {}, pct(p.whole_board)), el("td", {}, pct(p.black_to_move)), el("td", {}, pct(p.white_to_move)))))));
  for (const basis of ["relative", "flipped", "legal"]) {
    const posts = data.probes.filter((p) => p.basis === basis && p.hook.endsWith("hook_resid_post"));
    if (posts.length) out.push(lineChart([{ name: "per square", values: posts.map((p) => p.accuracy) }, { name: "whole board", values: posts.map((p) => p.whole_board) }], `${basis}: accuracy by layer (resid_post)`, "layer"));
  }
  out.push(el("h2", {}, "Per square (relative basis, resid_post)"), el("div", { class: "row" }, relative.filter((p) => p.hook.endsWith("resid_post")).map((p) =>
    boardCard(`L${p.layer}: ${pct(p.accuracy)}`, valueBoard(p.per_square, { colour: "sequential", unit: "accuracy" })))));
  const best = relative.reduce((a, b) => (b.accuracy > (a ? a.accuracy : -1) ? b : a), null);
  if (best) {
    out.push(el("h2", {}, `By move number: ${best.hook}`), lineChart([{ name: "per square", values: best.by_position }, { name: "whole board", values: best.whole_board_by_position }], "accuracy by move number", "move"));
    if (best.direction_cosines) {
      const bytes = atob(best.direction_cosines), canvas = el("canvas", { width: 64, height: 64, class: "matrix", style: "width: 320px; height: 320px" });
      const ctx = canvas.getContext("2d"), image = ctx.createImageData(64, 64);
      for (let i = 0; i < 4096; i++) {
        const b = bytes.charCodeAt(i), v = (b > 127 ? b - 256 : b) / 127, c = diverging(v, 1).match(/\d+/g).map(Number);
        image.data.set([c[0], c[1], c[2], 255], 4 * i);
      }
      ctx.putImageData(image, 0, 0);
      out.push(el("h2", {}, `Direction cosines between squares (mine − theirs, ${best.hook})`), canvas, el("p", { class: "muted" }, "Row and column = square A0…H7; red +1, blue −1."));
    }
  }
  return out.filter(Boolean);
}

// ---- Routing -------------------------------------------------------------------------------------------------

/** The route of a hash: #/, #/layer/5, #/neuron/L5N421, #/head/L3H2, #/sae/F12, #/sae/1/F12, #/probes. */
function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean);
  let m;
  if (parts[0] === "neuron" && (m = /^L(\d+)N(\d+)$/i.exec(parts[1] || ""))) return { page: "neuron", layer: +m[1], unit: +m[2] };
  if (parts[0] === "head" && (m = /^L(\d+)H(\d+)$/i.exec(parts[1] || ""))) return { page: "head", layer: +m[1], unit: +m[2] };
  if (parts[0] === "sae") {
    const sae = parts.length > 2 ? +parts[1] : 0;
    if ((m = /^F(\d+)$/i.exec(parts[parts.length - 1] || ""))) return { page: "feature", sae, unit: +m[1] };
  }
  if (parts[0] === "probes") return { page: "probes" };
  if (parts[0] === "layer") return { page: "index", layer: +parts[1] || 0 };
  if (parts.length === 0) return { page: "index" };
  return { page: "unknown", text: hash };
}

/** The hash of a typed unit id (L5N421, L3H2, F12), or null. */
function unitHash(text) {
  const t = text.trim();
  if (/^L\d+N\d+$/i.test(t)) return `#/neuron/${t.toUpperCase()}`;
  if (/^L\d+H\d+$/i.test(t)) return `#/head/${t.toUpperCase()}`;
  if (/^F\d+$/i.test(t)) return `#/sae/${t.toUpperCase()}`;
  return null;
}

async function render() {
  const index = await load("index");
  const route = parseRoute(location.hash);
  document.getElementById("nav").replaceChildren(el("a", { href: "#/" }, "neurons"), el("a", { href: "#/" , onclick: () => setTimeout(() => document.getElementById("heads")?.scrollIntoView(), 50) }, "heads"),
    ...index.saes.map((s, i) => el("a", { href: "#/", onclick: () => setTimeout(() => document.getElementById(`sae-${i}`)?.scrollIntoView(), 50) }, `SAE ${i}`)), el("a", { href: "#/probes" }, "probes"));
  let content;
  try {
    if (route.page === "index") content = renderIndex(index, route);
    else if (route.page === "neuron") content = await renderNeuron(index, route.layer, route.unit);
    else if (route.page === "head") content = renderHead(index, route.layer, route.unit);
    else if (route.page === "feature") content = await renderFeature(index, route.sae, route.unit);
    else if (route.page === "probes") content = await renderProbes(index);
    else content = [el("p", { class: "error" }, `No page ${route.text}. Try #/neuron/L0N0, #/head/L0H0, #/sae/F0 or #/probes.`)];
  } catch (e) {
    content = [el("p", { class: "error" }, e.message)];
  }
  page().replaceChildren(...content);
  page().dataset.route = route.page;
  window.atlasRendered = performance.now();   // ms since the page began to load: what the load-time benchmark reads
  document.title = `${document.querySelector("h1")?.textContent || "atlas"} — Othello-GPT atlas`;
  window.scrollTo(0, 0);
}

document.getElementById("search").addEventListener("submit", (e) => {
  e.preventDefault();
  const box = document.getElementById("search-box");
  const hash = unitHash(box.value);
  if (hash) location.hash = hash;
  else page().prepend(el("p", { class: "error" }, `"${box.value}" is not a unit id: write L5N421 (a neuron), L3H2 (a head) or F1234 (an SAE feature).`));
});
window.addEventListener("hashchange", () => render().catch((e) => window.atlasErrors.push(String(e))));
render().catch((e) => { window.atlasErrors.push(String(e)); page().replaceChildren(el("p", { class: "error" }, `${e.message}: open index.html from the atlas folder that othello-gpt scope wrote.`)); });
