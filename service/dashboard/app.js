// The yieldvault dashboard: reads the JSON API and draws every vault.
// Read-only; no library, no network beyond this service.
"use strict";

(function () {
  const params = new URLSearchParams(location.search);
  const every = Math.max(1, Number(params.get("refresh")) || 10) * 1000;
  let generation = 0;

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
    return e;
  }

  async function getJSON(path) {
    const r = await fetch(path, { headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error(path + ": HTTP " + r.status);
    return r.json();
  }

  const pct = (x) => (100 * x).toFixed(2) + "%";
  const short = (s) => { const [i, f = ""] = String(s).split("."); return f ? i + "." + f.slice(0, 6) : i; };

  function figure(label, value, cls) {
    return el("div", {}, el("span", {}, label), el("span", { class: cls }, value));
  }

  // chart draws NAV (and share price on its own scale) as polylines.
  function chart(points) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 600 140");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("class", "chart");
    if (points.length < 2) {
      const t = document.createElementNS(ns, "text");
      t.setAttribute("x", "10"); t.setAttribute("y", "70");
      t.textContent = "waiting for a second valuation";
      svg.append(t);
      return svg;
    }
    const t0 = Date.parse(points[0].time), t1 = Date.parse(points[points.length - 1].time);
    const line = (key, color) => {
      const ys = points.map((p) => Number(p[key]));
      const lo = Math.min(...ys), hi = Math.max(...ys), span = hi - lo || 1;
      const pts = points.map((p, i) => {
        const x = t1 > t0 ? (600 * (Date.parse(p.time) - t0)) / (t1 - t0) : (600 * i) / (points.length - 1);
        return x.toFixed(1) + "," + (130 - (120 * (ys[i] - lo)) / span).toFixed(1);
      });
      const pl = document.createElementNS(ns, "polyline");
      pl.setAttribute("points", pts.join(" "));
      pl.setAttribute("fill", "none");
      pl.setAttribute("stroke", color);
      pl.setAttribute("stroke-width", "1.5");
      pl.setAttribute("vector-effect", "non-scaling-stroke");
      pl.setAttribute("data-series", key);
      svg.append(pl);
    };
    line("nav", "#2457c5");
    line("share_price", "#c56a24");
    return svg;
  }

  // exposure sums position weights by tag prefix (protocol, layer, avs, operator, kind).
  function exposure(positions) {
    const sums = new Map();
    for (const p of positions) {
      if (!(p.weight > 0)) continue;
      for (const t of p.tags || []) {
        const prefix = t.split(":")[0];
        if (!["protocol", "layer", "avs", "operator", "kind"].includes(prefix)) continue;
        sums.set(t, (sums.get(t) || 0) + p.weight);
      }
    }
    const rows = [...sums.entries()].sort((a, b) => a[0].localeCompare(b[0]));
    return el("table", { class: "exposure" }, el("tr", {}, el("th", {}, "tag"), el("th", { class: "num" }, "weight")),
      ...rows.map(([t, w]) => el("tr", {}, el("td", {}, t), el("td", { class: "num" }, pct(w)))));
  }

  function vaultSection(v, series, decisions) {
    const sec = el("section", { class: "vault", id: "vault-" + v.id, "data-vault": v.id });
    sec.append(el("h2", {}, v.id + " ", el("span", { class: "muted" }, v.strategy + ", " + v.base)));
    sec.append(el("div", { class: "figures" },
      figure("NAV", v.nav, "nav"),
      figure("share price", v.share_price, "share-price"),
      figure("APY", pct(v.apy), "apy"),
      figure("idle", short(v.idle), "idle"),
      figure("time", v.time, "time"),
      figure("state", v.paused ? "paused" : "running", v.paused ? "paused" : "ok")));
    const alerts = v.alerts || [];
    sec.append(el("h3", {}, "Risk monitors firing"));
    sec.append(alerts.length
      ? el("ul", { class: "alerts" }, ...alerts.map((a) => el("li", { class: "alert" },
          a.monitor + " on " + a.markets.join(", ") + " since " + a.since + " (" + a.when + ") -> " + a.action)))
      : el("p", { class: "ok alerts" }, "none"));
    const grid = el("div", { class: "grid" });
    grid.append(el("div", {}, el("h3", {}, "NAV (blue) and share price (orange), each on its own scale"), chart(series)));
    grid.append(el("div", {}, el("h3", {}, "Allocation"),
      el("table", { class: "positions" },
        el("tr", {}, el("th", {}, "market"), el("th", { class: "num" }, "value"), el("th", { class: "num" }, "weight"), el("th", { class: "num" }, "APY")),
        ...v.positions.map((p) => el("tr", { "data-market": p.market }, el("td", {}, p.market),
          el("td", { class: "num value" }, short(p.value)), el("td", { class: "num" }, pct(p.weight)), el("td", { class: "num" }, pct(p.apy)))))));
    grid.append(el("div", {}, el("h3", {}, "Exit routes now"),
      el("table", { class: "exits" },
        el("tr", {}, el("th", {}, "market"), el("th", { class: "num" }, "instant cost"), el("th", { class: "num" }, "queue days"), el("th", {}, "route")),
        ...(v.exits || []).map((e) => el("tr", { "data-market": e.market }, el("td", {}, e.market),
          el("td", { class: "num" }, short(e.instant_cost)), el("td", { class: "num" }, e.queue_days ? e.queue_days.toFixed(1) : "-"), el("td", {}, e.route))))));
    grid.append(el("div", {}, el("h3", {}, "Exposure by protocol, layer, AVS, operator, kind"), exposure(v.positions)));
    if ((v.loops || []).length > 0) {
      grid.append(el("div", {}, el("h3", {}, "Loops: health factor and distance to liquidation"),
        el("table", { class: "loops" },
          el("tr", {}, el("th", {}, "market"), el("th", { class: "num" }, "leverage"), el("th", { class: "num" }, "health factor"),
            el("th", { class: "num" }, "LTV / LLTV"), el("th", { class: "num" }, "liquidation drop"), el("th", { class: "num" }, "oracle gap")),
          ...v.loops.map((l) => el("tr", { "data-market": l.market }, el("td", {}, l.market),
            el("td", { class: "num" }, l.leverage.toFixed(2)),
            el("td", { class: "num health-factor" + (l.health_factor > 0 && l.health_factor < 1.075 ? " paused" : "") }, l.health_factor > 0 ? l.health_factor.toFixed(4) : "no debt"),
            el("td", { class: "num" }, pct(l.ltv) + " / " + pct(l.lltv)),
            el("td", { class: "num" }, pct(l.liquidation_drop)),
            el("td", { class: "num" }, pct(l.oracle_gap)))))));
    }
    sec.append(grid);
    sec.append(el("h3", {}, "Recent decisions"));
    sec.append(el("table", { class: "decisions" },
      el("tr", {}, el("th", {}, "time"), el("th", {}, "action"), el("th", {}, "outcome"), el("th", {}, "summary")),
      ...decisions.map((d) => el("tr", {}, el("td", {}, d.time), el("td", {}, d.action), el("td", {}, d.outcome), el("td", {}, d.summary)))));
    return sec;
  }

  async function refresh() {
    const gen = ++generation;
    try {
      const [ready, list] = await Promise.all([fetch("/readyz").then((r) => r.json()), getJSON("/v1/vaults")]);
      const sections = await Promise.all(list.vaults.map(async (v) => {
        const [s, d] = await Promise.all([getJSON("/v1/vaults/" + encodeURIComponent(v.id) + "/series"),
          getJSON("/v1/vaults/" + encodeURIComponent(v.id) + "/decisions?limit=10")]);
        return vaultSection(v, s.points, d.decisions);
      }));
      if (gen !== generation) return;
      document.getElementById("vaults").replaceChildren(...sections);
      document.getElementById("status").textContent = (ready.ready ? "ready" : "not ready") + ", " +
        (ready.leader ? "lease holder" : "standby") + ", service time " + ready.time;
      document.getElementById("updated").textContent = "updated " + new Date().toISOString();
      document.getElementById("error").textContent = "";
      document.body.setAttribute("data-generation", String(gen));
    } catch (e) {
      document.getElementById("error").textContent = "could not read the API: " + e.message;
    }
  }

  refresh();
  setInterval(refresh, every);
})();
