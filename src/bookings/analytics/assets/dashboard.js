"use strict";
// Dashboard runtime: reads the embedded data, applies the filters to the pre-aggregated cube
// and draws the SVG charts and tables. No network, no library.
(function () {
  const DATA = JSON.parse(document.getElementById("dashboard-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const FILTERS = ["sales_channel", "trip_type", "booking_origin_region"];
  const state = { sales_channel: "", trip_type: "", booking_origin_region: "" };
  const cube = DATA.cube;
  const fmtInt = new Intl.NumberFormat("en-GB");

  function pct(x, digits) {
    return x === null || x === undefined || Number.isNaN(x) ? "–" :
      (100 * x).toFixed(digits === undefined ? 1 : digits) + "%";
  }
  function num(x) { return x === null || x === undefined ? "–" : fmtInt.format(x); }
  function signedPct(x) {
    if (x === null || x === undefined) return "–";
    return (x >= 0 ? "+" : "") + (100 * x).toFixed(1) + "%";
  }
  function points(x) {
    if (x === null || x === undefined) return "–";
    return (x >= 0 ? "+" : "") + (100 * x).toFixed(1) + " pts";
  }

  function matches(row) {
    return (!state.sales_channel || row[2] === state.sales_channel) &&
      (!state.trip_type || row[3] === state.trip_type) &&
      (!state.booking_origin_region || row[4] === state.booking_origin_region);
  }

  // Totals per value of one dimension under the current filters, in the dimension's order.
  function aggregate(dimension) {
    const d = cube.dimensions.indexOf(dimension);
    const totals = new Map();
    for (const row of cube.rows) {
      if (row[0] !== d || !matches(row)) continue;
      const value = cube.values[row[1]];
      const t = totals.get(value) || { value: value, bookings: 0, with_outcome: 0, completed: 0 };
      t.bookings += row[5]; t.with_outcome += row[6]; t.completed += row[7];
      totals.set(value, t);
    }
    const rows = Array.from(totals.values());
    rows.forEach(function (r) { r.rate = r.with_outcome ? r.completed / r.with_outcome : null; });
    const order = (DATA.orders || {})[dimension];
    if (order) {
      const rank = new Map(order.map(function (v, i) { return [v, i]; }));
      rows.sort(function (a, b) {
        return (rank.has(a.value) ? rank.get(a.value) : 1e9) -
          (rank.has(b.value) ? rank.get(b.value) : 1e9) || String(a.value).localeCompare(b.value);
      });
    } else if (dimension.endsWith("_month")) {
      rows.sort(function (a, b) { return String(a.value).localeCompare(String(b.value)); });
    } else {
      rows.sort(function (a, b) { return b.bookings - a.bookings; });
    }
    return rows;
  }

  function el(name, attrs, text) {
    const node = document.createElementNS(SVG, name);
    for (const k in attrs) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // Vertical bars of bookings with the completion rate as dots on a second scale.
  function barChart(svg, rows, options) {
    clear(svg);
    const W = 600, H = 260, left = 56, right = 44, top = 14, bottom = options.rotate ? 70 : 40;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    const plotW = W - left - right, plotH = H - top - bottom;
    const maxB = Math.max(1, ...rows.map(function (r) { return r.bookings; }));
    const rates = rows.map(function (r) { return r.rate; }).filter(function (r) { return r !== null; });
    const maxR = Math.max(0.01, ...rates) * 1.15;
    svg.appendChild(el("line", { class: "axis", x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH }));
    for (let i = 0; i <= 4; i++) {
      const y = top + plotH - (plotH * i) / 4;
      svg.appendChild(el("line", { class: "axis", x1: left, y1: y, x2: left + plotW, y2: y, "stroke-dasharray": "2,3" }));
      svg.appendChild(el("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "muted" }, num(Math.round((maxB * i) / 4))));
      svg.appendChild(el("text", { x: left + plotW + 6, y: y + 4, class: "muted" }, pct((maxR * i) / 4, 0)));
    }
    if (!rows.length) {
      svg.appendChild(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "muted" }, "no bookings for this filter"));
      return;
    }
    const step = plotW / rows.length, barW = Math.max(2, step * 0.62);
    let path = "";
    rows.forEach(function (r, i) {
      const x = left + i * step + (step - barW) / 2;
      const h = (plotH * r.bookings) / maxB;
      // Live bookings (no outcome yet) sit on top in a lighter shade: they count in the volume
      // but not in the completion rate.
      const live = options.split ? r.bookings - r.with_outcome : 0;
      const liveH = (plotH * live) / maxB;
      const bar = el("rect", { class: "bar", x: x, y: top + plotH - h + liveH, width: barW, height: Math.max(h - liveH, 0.5) });
      bar.appendChild(el("title", {}, r.value + ": " + num(r.bookings) + " bookings, completion " + pct(r.rate)));
      svg.appendChild(bar);
      if (live > 0) {
        const liveBar = el("rect", { class: "bar live", x: x, y: top + plotH - h, width: barW, height: Math.max(liveH, 0.5) });
        liveBar.appendChild(el("title", {}, r.value + ": " + num(live) + " live bookings awaiting an outcome"));
        svg.appendChild(liveBar);
      }
      const cx = x + barW / 2;
      if (r.rate !== null) {
        const cy = top + plotH - (plotH * r.rate) / maxR;
        path += (path ? " L" : "M") + cx.toFixed(1) + "," + cy.toFixed(1);
        svg.appendChild(el("circle", { class: "rate", cx: cx, cy: cy, r: 3.5 }));
      }
      const label = String(r.value);
      const attrs = options.rotate ?
        { x: cx, y: top + plotH + 10, "text-anchor": "end", transform: "rotate(-40 " + cx + " " + (top + plotH + 10) + ")" } :
        { x: cx, y: top + plotH + 16, "text-anchor": "middle" };
      svg.appendChild(el("text", attrs, label.length > 16 ? label.slice(0, 15) + "…" : label));
    });
    if (options.line && path) svg.appendChild(el("path", { class: "rate-line", d: path }));
  }

  // Horizontal bars (long labels: countries, reasons), value and rate printed at the end.
  function hbarChart(svg, rows, options) {
    clear(svg);
    const rowH = 20, left = 200, W = 640, right = 110;
    const H = Math.max(40, rows.length * rowH + 10);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    const key = options.key || "bookings";
    const maxV = Math.max(1, ...rows.map(function (r) { return r[key]; }));
    if (!rows.length) {
      svg.appendChild(el("text", { x: W / 2, y: 24, "text-anchor": "middle", class: "muted" }, "nothing to show"));
      return;
    }
    rows.forEach(function (r, i) {
      const y = 5 + i * rowH, w = ((W - left - right) * r[key]) / maxV;
      const label = String(r.value);
      svg.appendChild(el("text", { x: left - 6, y: y + 13, "text-anchor": "end" }, label.length > 24 ? label.slice(0, 23) + "…" : label));
      svg.appendChild(el("rect", { class: "bar", x: left, y: y + 2, width: Math.max(w, 0.5), height: rowH - 6 }));
      const note = num(r[key]) + (r.rate !== undefined ? "  ·  " + pct(r.rate) : "");
      svg.appendChild(el("text", { x: left + w + 6, y: y + 13, class: "muted" }, note));
    });
  }

  function table(container, rows, columns) {
    const t = document.createElement("table");
    const head = t.createTHead().insertRow();
    columns.forEach(function (c) {
      const th = document.createElement("th");
      th.textContent = c.title; if (c.num) th.className = "num"; head.appendChild(th);
    });
    const body = t.createTBody();
    rows.forEach(function (r) {
      const tr = body.insertRow();
      columns.forEach(function (c) {
        const td = tr.insertCell();
        const v = r[c.key];
        td.textContent = c.format ? c.format(v, r) : (v === null || v === undefined ? "–" : v);
        if (c.num) td.className = "num";
        if (c.trend && v !== null && v !== undefined) td.classList.add(v >= 0 ? "up" : "down");
      });
    });
    while (container.firstChild) container.removeChild(container.firstChild);
    container.appendChild(t);
  }

  function setText(id, text) { const n = document.getElementById(id); if (n) n.textContent = text; }

  function totals() {
    // Every booking has exactly one sales channel: summing that dimension gives the totals.
    const rows = aggregate("sales_channel");
    const t = { bookings: 0, with_outcome: 0, completed: 0 };
    rows.forEach(function (r) { t.bookings += r.bookings; t.with_outcome += r.with_outcome; t.completed += r.completed; });
    t.rate = t.with_outcome ? t.completed / t.with_outcome : null;
    return t;
  }

  // The month the dashboard was generated in is still filling up: compare complete months only.
  function monthChanges(rows) {
    const current = document.body.dataset.currentMonth || "";
    const complete = rows.filter(function (r) { return String(r.value).slice(0, 7) < current; });
    const months = complete.length ? complete : rows;
    const last = months[months.length - 1], prev = months[months.length - 2];
    let yoy = null;
    if (last) {
      const [y, m] = String(last.value).split("-");
      const key = (Number(y) - 1) + "-" + m;
      const match = rows.find(function (r) { return String(r.value).startsWith(key); });
      if (match && match.bookings) yoy = (last.bookings - match.bookings) / match.bookings;
    }
    return {
      last: last, mom: last && prev && prev.bookings ? (last.bookings - prev.bookings) / prev.bookings : null, yoy: yoy,
    };
  }

  const widgets = {
    tiles: function () {
      const t = totals();
      setText("tile-bookings", num(t.bookings));
      setText("tile-outcome", num(t.with_outcome) + " with an outcome");
      setText("tile-completion", pct(t.rate));
      setText("tile-completed", num(t.completed) + " completed");
      const extras = aggregate("extra_services_count");
      const any = extras.filter(function (r) { return r.value !== "0"; }).reduce(function (s, r) { return s + r.bookings; }, 0);
      setText("tile-extras", pct(t.bookings ? any / t.bookings : null));
      const months = aggregate("ingest_month");
      const ch = monthChanges(months);
      setText("tile-month", ch.last ? String(ch.last.value).slice(0, 7) : "–");
      setText("tile-mom", "month over month: " + signedPct(ch.mom));
      setText("tile-yoy", signedPct(ch.yoy));
    },
    bar: function (node) {
      let rows = aggregate(node.dataset.dimension);
      if (node.dataset.top) rows = rows.slice().sort(function (a, b) { return b.bookings - a.bookings; }).slice(0, Number(node.dataset.top));
      barChart(node, rows, { line: node.dataset.line === "1", rotate: node.dataset.rotate === "1" });
    },
    hbar: function (node) {
      let rows = aggregate(node.dataset.dimension);
      rows = rows.slice().sort(function (a, b) { return b.bookings - a.bookings; }).slice(0, Number(node.dataset.top || 15));
      hbarChart(node, rows, {});
    },
    segments: function (node) {
      const rows = (DATA.segments || []).filter(function (s) {
        return (!state.sales_channel || s.sales_channel === state.sales_channel) &&
          (!state.booking_origin_region || s.booking_origin_region === state.booking_origin_region);
      }).slice(0, Number(node.dataset.top || 20));
      table(node, rows, [
        { key: "booking_origin", title: "Origin" },
        { key: "sales_channel", title: "Channel" },
        { key: "lead_time_band", title: "Lead time (days)" },
        { key: "bookings", title: "Bookings", num: true, format: num },
        { key: "completion_rate", title: "Completion", num: true, format: function (v) { return pct(v); } },
        { key: "best_comparable_rate", title: "Best comparable", num: true, format: function (v) { return pct(v); } },
        { key: "opportunity", title: "Opportunity (bookings)", num: true, format: function (v) { return num(Math.round(v)); } },
      ]);
    },
    months: function (node) {
      const rows = aggregate(node.dataset.dimension || "ingest_month").map(function (r) {
        return Object.assign({}, r, { value: String(r.value).slice(0, 7) });
      });
      barChart(node, rows, { line: true, rotate: rows.length > 8, split: true });
    },
  };

  function render() {
    const sel = FILTERS.filter(function (f) { return state[f]; }).map(function (f) { return state[f]; });
    setText("filter-summary", sel.length ? "filtered: " + sel.join(" · ") : "all bookings");
    widgets.tiles();
    document.querySelectorAll("[data-widget]").forEach(function (node) {
      const draw = widgets[node.dataset.widget];
      if (draw) draw(node);
    });
  }

  function staticParts() {
    document.querySelectorAll("[data-table]").forEach(function (node) {
      const spec = DATA.tables[node.dataset.table];
      if (!spec) return;
      const columns = spec.columns.map(function (c) {
        const f = c.format === "pct" ? function (v) { return pct(v); } :
          c.format === "int" ? num : c.format === "signed" ? signedPct :
          c.format === "points" ? points :
          c.format === "month" ? function (v) { return v === null || v === undefined ? "–" : String(v).slice(0, 7); } : null;
        return { key: c.key, title: c.title, num: !!c.format && c.format !== "month", format: f, trend: c.format === "signed" || c.format === "points" };
      });
      table(node, spec.rows, columns);
    });
    document.querySelectorAll("[data-histogram]").forEach(function (node) {
      const rows = (DATA.distributions || []).filter(function (r) { return r.measure === node.dataset.histogram; })
        .map(function (r) { return { value: r.bucket_start, bookings: r.bookings, rate: r.completion_rate }; });
      barChart(node, rows, { line: false, rotate: rows.length > 14 });
    });
    document.querySelectorAll("[data-reasons]").forEach(function (node) {
      const rows = (DATA.reasons || []).map(function (r) { return { value: r.reason, bookings: r.rejected_rows }; });
      hbarChart(node, rows.slice(0, 15), {});
    });
  }

  FILTERS.forEach(function (f) {
    const select = document.getElementById("filter-" + f);
    if (!select) return;
    const values = (DATA.orders[f] || []).slice();
    values.forEach(function (v) {
      const o = document.createElement("option"); o.value = v; o.textContent = v; select.appendChild(o);
    });
    select.addEventListener("change", function () { state[f] = select.value; render(); });
  });
  staticParts();
  render();
  document.body.dataset.ready = "1";
})();
