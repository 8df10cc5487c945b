"use strict";
// The dashboards' runtime. It reads the data embedded in the page, keeps the filters in the URL
// (and in the links to the other pages), and draws the charts with Chart.js (embedded in the
// page beside this script) and the tables (sortable, downloadable as CSV). Nothing is fetched.
(function () {
  const DATA = JSON.parse(document.getElementById("dashboard-data").textContent);
  const FILTERS = ["sales_channel", "trip_type", "booking_origin_region"];
  const state = { sales_channel: "", trip_type: "", booking_origin_region: "" };
  const cube = DATA.cube;
  const asOf = DATA.as_of || {};
  // A rate over fewer bookings with an outcome than this is drawn faded: its interval is wide.
  const SMALL_GROUP = 30;
  const COLOR = {
    bar: "#2f6db5", live: "#a9c4e6", rate: "#d9661f", rateFaded: "rgba(217, 102, 31, 0.35)",
    interval: "rgba(217, 102, 31, 0.4)", progress: "#8a97a6", grid: "#e3e8ee", ink: "#1d2733",
    muted: "#5b6876", worst: "#c0392b",
  };

  // -- numbers ------------------------------------------------------------------------------
  const intFormat = new Intl.NumberFormat("en-GB");
  const compactFormat = new Intl.NumberFormat("en-GB", { notation: "compact", maximumFractionDigits: 1 });
  function missing(x) { return x === null || x === undefined || (typeof x === "number" && Number.isNaN(x)); }
  function num(x) { return missing(x) ? "–" : intFormat.format(Math.round(x)); }
  function decimal(x) { return missing(x) ? "–" : x.toFixed(1); }
  function pct(x, digits) { return missing(x) ? "–" : (100 * x).toFixed(digits === undefined ? 1 : digits) + "%"; }
  // The sign of the figure as printed: a change that rounds to zero is "+0.0".
  function signed(x, unit) {
    if (missing(x)) return "–";
    const text = Math.abs(100 * x).toFixed(1);
    return (x < 0 && Number(text) !== 0 ? "−" : "+") + text + unit;
  }
  function signedPct(x) { return signed(x, "%"); }
  function points(x) { return signed(x, " pts"); }
  function month(x) { return missing(x) ? "–" : String(x).slice(0, 7); }
  // Lake time stamps are UTC ("2026-12-03T12:35:55+00:00"): shown to the minute, saying so.
  function utc(x) { return missing(x) ? "–" : String(x).replace("T", " ").slice(0, 16) + " UTC"; }
  function days(n) { return n === 1 ? "1 day" : n + " days"; }
  function dayRange(n) { return n === 1 ? "day 1" : "days 1-" + n; }
  const FORMATS = {
    int: num, decimal: decimal, pct: pct, signed: signedPct, points: points, month: month, time: utc,
    text: function (x) { return missing(x) ? "–" : String(x); },
  };
  const NUMERIC = new Set(["int", "decimal", "pct", "signed", "points"]);

  // Wilson's 95% interval of a proportion: honest for small groups and rates near 0.
  function wilson(successes, trials) {
    if (!trials) return null;
    const z = 1.96, p = successes / trials, z2 = z * z;
    const centre = (p + z2 / (2 * trials)) / (1 + z2 / trials);
    const half = (z * Math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))) / (1 + z2 / trials);
    return [successes === 0 ? 0 : Math.max(0, centre - half), successes === trials ? 1 : Math.min(1, centre + half)];
  }

  // -- the cube: totals per value of a dimension under the filters ----------------------------
  function matches(row) {
    return (!state.sales_channel || row[2] === state.sales_channel) &&
      (!state.trip_type || row[3] === state.trip_type) &&
      (!state.booking_origin_region || row[4] === state.booking_origin_region);
  }

  function aggregate(dimension) {
    const d = cube.dimensions.indexOf(dimension);
    const totals = new Map();
    for (const row of cube.rows) {
      if (row[0] !== d || !matches(row)) continue;
      const value = cube.values[row[1]];
      let t = totals.get(value);
      if (!t) {
        t = { value: value, bookings: 0, with_outcome: 0, completed: 0, with_extras: 0, live_scored: 0, live_predicted: 0 };
        totals.set(value, t);
      }
      t.bookings += row[5]; t.with_outcome += row[6]; t.completed += row[7];
      t.with_extras += row[8]; t.live_scored += row[9]; t.live_predicted += row[10];
    }
    const rows = Array.from(totals.values());
    rows.forEach(function (r) { r.rate = r.with_outcome ? r.completed / r.with_outcome : null; });
    const order = (DATA.orders || {})[dimension];
    if (order) {
      const rank = new Map(order.map(function (v, i) { return [v, i]; }));
      const at = function (v) { return rank.has(v) ? rank.get(v) : 1e9; };
      rows.sort(function (a, b) { return at(a.value) - at(b.value) || String(a.value).localeCompare(b.value); });
    } else if (dimension.startsWith("ingest_month")) {
      rows.sort(function (a, b) { return String(a.value).localeCompare(String(b.value)); });
    } else {
      rows.sort(function (a, b) { return b.bookings - a.bookings; });
    }
    return rows;
  }

  function sum(rows, key) { return rows.reduce(function (s, r) { return s + r[key]; }, 0); }

  function totals() {
    // Every booking has exactly one sales channel: that dimension's rows add up to the total.
    const rows = aggregate("sales_channel");
    const t = {};
    ["bookings", "with_outcome", "completed", "with_extras", "live_scored", "live_predicted"].forEach(function (k) { t[k] = sum(rows, k); });
    t.rate = t.with_outcome ? t.completed / t.with_outcome : null;
    return t;
  }

  // -- months: complete ones, and the month in progress compared on the same days --------------
  function shiftMonth(value, months) {
    const y = Number(String(value).slice(0, 4)), m = Number(String(value).slice(5, 7)) - 1 + months;
    const year = y + Math.floor(m / 12), mon = ((m % 12) + 12) % 12 + 1;
    return year + "-" + String(mon).padStart(2, "0");
  }
  function change(now, before) { return before ? (now - before) / before : null; }
  function rateChange(a, b) { return a && b && a.rate !== null && b.rate !== null ? a.rate - b.rate : null; }

  function monthView() {
    const byMonth = new Map(aggregate("ingest_month").map(function (r) { return [month(r.value), r]; }));
    const toDay = new Map(aggregate("ingest_month_to_day").map(function (r) { return [month(r.value), r]; }));
    const progress = asOf.month_in_progress || null;
    const complete = Array.from(byMonth.keys()).filter(function (m) { return m !== progress; }).sort();
    const view = { byMonth: byMonth, complete: complete, progress: null, last: null };
    const last = complete[complete.length - 1];
    if (last) {
      const row = byMonth.get(last), prev = byMonth.get(shiftMonth(last, -1)), year = byMonth.get(shiftMonth(last, -12));
      view.last = {
        month: last, row: row,
        mom: prev ? change(row.bookings, prev.bookings) : null,
        yoy: year ? change(row.bookings, year.bookings) : null,
        previous: shiftMonth(last, -1), yearBefore: shiftMonth(last, -12),
      };
    }
    if (progress && byMonth.has(progress)) {
      const row = byMonth.get(progress);
      const prev = toDay.get(shiftMonth(progress, -1)), year = toDay.get(shiftMonth(progress, -12));
      view.progress = {
        month: progress, row: row, days: asOf.days_covered,
        mom: prev ? change(row.bookings, prev.bookings) : null,
        yoy: year ? change(row.bookings, year.bookings) : null,
        previous: shiftMonth(progress, -1), yearBefore: shiftMonth(progress, -12),
      };
    }
    return view;
  }

  // The last `count` complete months and the `count` before them, when the lake has them all.
  function windows(view, count) {
    const months = view.complete;
    const recent = months.slice(-count).map(function (m) { return view.byMonth.get(m); });
    const earlierKeys = months.length >= count ? months.slice(-count).map(function (m) { return shiftMonth(m, -count); }) : [];
    const earlier = earlierKeys.every(function (m) { return view.byMonth.has(m); }) && earlierKeys.length ?
      earlierKeys.map(function (m) { return view.byMonth.get(m); }) : null;
    return { recent: recent, earlier: earlier, full: recent.length === count };
  }

  // -- small DOM helpers ---------------------------------------------------------------------
  function setText(id, text) { const n = document.getElementById(id); if (n) n.textContent = text; }
  function setTrend(id, value) {
    const n = document.getElementById(id);
    if (!n) return;
    n.classList.remove("up", "down");
    if (!missing(value)) n.classList.add(value >= 0 ? "up" : "down");
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function element(name, attrs, text) {
    const node = document.createElement(name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function download(name, blob) {
    const url = URL.createObjectURL(blob);
    const link = element("a", { href: url, download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  // -- charts --------------------------------------------------------------------------------
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = COLOR.ink;
  Chart.defaults.borderColor = COLOR.grid;
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.position = "bottom";
  Chart.defaults.plugins.legend.labels.boxWidth = 12;
  Chart.defaults.plugins.tooltip.mode = "index";
  Chart.defaults.plugins.tooltip.intersect = false;
  // An exported PNG gets a white background (a canvas is transparent).
  Chart.register({
    id: "whiteBackground",
    beforeDraw: function (chart) {
      const ctx = chart.ctx;
      ctx.save();
      ctx.globalCompositeOperation = "destination-over";
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(0, 0, chart.width, chart.height);
      ctx.restore();
    },
  });

  const charts = new Map();
  function draw(canvas, config) {
    const old = charts.get(canvas);
    if (old) old.destroy();
    const chart = new Chart(canvas, config);
    charts.set(canvas, chart);
    canvas.dataset.points = String(config.data.labels.length);
    return chart;
  }

  // Long labels are cut (the tooltip gives them whole); a label of several lines keeps them.
  function shorten(label, length) {
    if (Array.isArray(label)) return label.map(function (part) { return shorten(part, length); });
    const text = String(label);
    return text.length > length ? text.slice(0, length - 1) + "…" : text;
  }

  // Diagonal stripes: the month in progress, not comparable with the solid months.
  function stripes(color) {
    const tile = document.createElement("canvas");
    tile.width = 8; tile.height = 8;
    const ctx = tile.getContext("2d");
    ctx.fillStyle = "#eef1f4"; ctx.fillRect(0, 0, 8, 8);
    ctx.strokeStyle = color; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(-2, 10); ctx.lineTo(10, -2); ctx.moveTo(6, 10); ctx.lineTo(10, 6); ctx.moveTo(-2, 2); ctx.lineTo(2, -2); ctx.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  // A rate axis from 0 to the first round step above the widest interval (never past 100%),
  // with at most six even steps of 1, 2, 2.5 or 5 points (times ten).
  const RATE_STEPS = [0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25];
  function rateAxis(intervals, extra) {
    const upper = Math.max(0.01, ...intervals.filter(Boolean).map(function (i) { return i[1]; }));
    const step = RATE_STEPS.find(function (s) { return Math.ceil(upper / s - 1e-9) <= 6; }) || 0.25;
    const max = Math.min(1, Math.ceil(upper / step - 1e-9) * step);
    const digits = Math.abs(step * 100 - Math.round(step * 100)) > 1e-9 ? 1 : 0;  // 2.5%
    return Object.assign({
      type: "linear", min: 0, max: Number(max.toFixed(4)),
      ticks: { stepSize: step, callback: function (v) { return pct(v, digits); } },
    }, extra);
  }

  // Bars of bookings with the completion rate (dots, and its 95% interval) on a second axis.
  // rows: {label, bookings, with_outcome, completed}; options: line (join the dots: ordered
  // categories), horizontal, live (split the bars into bookings with an outcome and live ones),
  // progress (index of a month in progress, drawn striped).
  function volumeRateChart(canvas, rows, options) {
    const horizontal = !!options.horizontal;
    const valueAxis = horizontal ? "x" : "y";
    const rates = rows.map(function (r) { return r.with_outcome ? r.completed / r.with_outcome : null; });
    const intervals = rows.map(function (r) { return wilson(r.completed, r.with_outcome); });
    const small = rows.map(function (r) { return r.with_outcome < SMALL_GROUP; });
    const progress = options.progress === undefined ? -1 : options.progress;
    const striped = progress >= 0 ? stripes(COLOR.progress) : null;
    const barColor = rows.map(function (_, i) { return i === progress ? striped : COLOR.bar; });
    // Every bar sits in one slot per category (one stack): the interval is centred on the bar
    // (stacking adds up values per value axis only, and the rate axis does not stack).
    const datasets = [];
    const axisIds = function (value) { return horizontal ? { xAxisID: value, yAxisID: "category" } : { xAxisID: "category", yAxisID: value }; };
    if (options.live) {
      datasets.push(Object.assign({ type: "bar", label: "Bookings with an outcome", data: rows.map(function (r) { return r.with_outcome; }), backgroundColor: barColor, stack: "bookings", maxBarThickness: 72, order: 3 }, axisIds("bookings")));
      datasets.push(Object.assign({ type: "bar", label: "Live bookings (no outcome yet)", data: rows.map(function (r) { return r.bookings - r.with_outcome; }), backgroundColor: rows.map(function (_, i) { return i === progress ? striped : COLOR.live; }), stack: "bookings", maxBarThickness: 72, order: 3 }, axisIds("bookings")));
    } else {
      datasets.push(Object.assign({ type: "bar", label: "Bookings", data: rows.map(function (r) { return r.bookings; }), backgroundColor: barColor, stack: "bookings", maxBarThickness: 72, order: 3 }, axisIds("bookings")));
    }
    if (progress >= 0) {
      datasets.push(Object.assign({ type: "bar", label: "Month in progress (" + days(asOf.days_covered) + " so far)", data: rows.map(function () { return null; }), backgroundColor: striped, stack: "bookings", legendOnly: true, order: 4 }, axisIds("bookings")));
    }
    datasets.push(Object.assign({ type: "bar", label: "95% interval of the rate", data: intervals, backgroundColor: COLOR.interval, barThickness: 3, stack: "bookings", interval: true, order: 2 }, axisIds("rate")));
    datasets.push(Object.assign({
      type: "line", label: "Completion rate", data: rates, showLine: !!options.line, borderColor: COLOR.rate, borderWidth: 2,
      pointRadius: small.map(function (s) { return s ? 3 : 4; }),
      pointBackgroundColor: rows.map(function (_, i) { return i === progress ? "#ffffff" : small[i] ? COLOR.rateFaded : COLOR.rate; }),
      pointBorderColor: small.map(function (s) { return s ? COLOR.rateFaded : COLOR.rate; }),
      segment: { borderDash: function (ctx) { return ctx.p1DataIndex === progress ? [4, 4] : undefined; } },
      spanGaps: true, order: 1,
    }, axisIds("rate")));

    const scales = {};
    scales.category = {
      axis: horizontal ? "y" : "x", type: "category", stacked: true, grid: { display: false },
      ticks: {
        autoSkip: !horizontal, maxRotation: 45,
        callback: function (value) { return shorten(this.getLabelForValue(value), horizontal ? 28 : 16); },
      },
    };
    scales.bookings = {
      axis: valueAxis, type: "linear", beginAtZero: true, stacked: true, position: horizontal ? "bottom" : "left",
      title: { display: true, text: "Bookings" },
      ticks: { callback: function (v) { return compactFormat.format(v); } },
    };
    scales.rate = rateAxis(intervals, {
      axis: valueAxis, position: horizontal ? "top" : "right",
      title: { display: true, text: "Completion rate" }, grid: { drawOnChartArea: false },
    });
    return draw(canvas, {
      data: { labels: rows.map(function (r) { return r.label; }), datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        scales: scales,
        plugins: {
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? String(rows[items[0].dataIndex].label).replace(",", " ") : ""; },
              label: function (ctx) {
                const r = rows[ctx.dataIndex];
                if (ctx.dataset.type === "line") {
                  return "Completion rate: " + pct(ctx.raw) + " (" + num(r.with_outcome) + " with an outcome" + (small[ctx.dataIndex] ? ": few, read with care)" : ")");
                }
                if (ctx.dataset.interval) {
                  return ctx.raw ? "95% interval: " + pct(ctx.raw[0]) + " to " + pct(ctx.raw[1]) : "95% interval: –";
                }
                if (ctx.dataset.legendOnly) return null;
                return ctx.dataset.label + ": " + num(ctx.raw);
              },
            },
          },
        },
      },
    });
  }

  function sparkline(canvas, labels, values, format) {
    return draw(canvas, {
      type: "line",
      data: { labels: labels, datasets: [{ data: values, borderColor: COLOR.bar, borderWidth: 1.5, pointRadius: 0, pointHitRadius: 6, fill: false, spanGaps: true }] },
      options: {
        scales: { x: { display: false }, y: { display: false, grace: "10%" } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) { return format(ctx.raw); } } },
        },
        layout: { padding: 2 },
      },
    });
  }

  // Live segments: volume against predicted completion; the segments lacking the most
  // completions (the table's first rows) in red.
  function liveScatter(canvas, rows, worst) {
    const name = function (r) { return r.booking_origin + " · " + r.sales_channel + " · " + r.lead_time_band + " days"; };
    const flagged = new Set(worst.map(name));
    const point = function (r) { return { x: r.scored, y: r.predicted_completion, row: r }; };
    const scored = rows.filter(function (r) { return r.scored > 0; });
    const others = scored.filter(function (r) { return !flagged.has(name(r)); }).map(point);
    const lacking = scored.filter(function (r) { return flagged.has(name(r)); }).map(point);
    return draw(canvas, {
      type: "scatter",
      data: {
        labels: scored.map(name),
        datasets: [
          { label: "Lacking the most completions (first rows of the table)", data: lacking, pointRadius: 5, backgroundColor: COLOR.worst, borderWidth: 0 },
          { label: "Other segments", data: others, pointRadius: 3, backgroundColor: "rgba(47, 109, 181, 0.55)", borderWidth: 0 },
        ],
      },
      options: {
        plugins: {
          tooltip: {
            mode: "nearest", intersect: true,
            callbacks: {
              title: function () { return ""; },
              label: function (ctx) {
                const r = ctx.raw.row;
                return name(r) + ": " + num(r.scored) + " live, predicted " + pct(r.predicted_completion) +
                  ", ≈ " + num(r.expected_completions) + " completions";
              },
            },
          },
        },
        scales: {
          x: { type: "logarithmic", title: { display: true, text: "Live bookings scored (log scale)" },
            ticks: { callback: function (v) { const t = Math.log10(v); return Math.abs(t - Math.round(t)) < 1e-9 ? compactFormat.format(v) : null; } } },
          y: rateAxis(scored.map(function (r) { return [0, r.predicted_completion + 0.02]; }), { title: { display: true, text: "Predicted completion" } }),
        },
      },
    });
  }

  // PNG export of the card's chart (the library draws on a canvas: its pixels are the image).
  function attachExport(card) {
    const canvas = card.querySelector("canvas[data-chart]");
    const header = card.querySelector("h2");
    if (!canvas || !header || card.querySelector("button.png")) return;
    const button = element("button", { type: "button", class: "png", title: "Download this chart as a PNG image" }, "PNG");
    button.addEventListener("click", function () {
      const name = (canvas.dataset.name || canvas.dataset.chart || "chart") + ".png";
      canvas.toBlob(function (blob) { download(name, blob); }, "image/png");
    });
    header.appendChild(button);
  }

  // -- tables --------------------------------------------------------------------------------
  function cellText(column, value) { return (FORMATS[column.kind] || FORMATS.text)(value); }

  function csvCell(column, value) {
    if (missing(value)) return "";
    let text = column.kind === "month" ? month(value) : String(value);
    if (/[",\n\r]/.test(text)) text = '"' + text.replace(/"/g, '""') + '"';
    return text;
  }

  function compare(a, b) {
    if (missing(a) && missing(b)) return 0;
    if (missing(a)) return 1;  // empty cells last, whichever the direction
    if (missing(b)) return -1;
    return typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b));
  }

  // A table that sorts by any column (click its header) and downloads as CSV (the values as
  // stored: rates as fractions, times in UTC).
  function renderTable(container, spec, rows) {
    const sort = container.sortState || { key: null, descending: false };
    container.sortState = sort;
    let shown = rows.slice();
    if (sort.key) {
      shown.sort(function (a, b) {
        const order = compare(a[sort.key], b[sort.key]);
        return sort.descending && !missing(a[sort.key]) && !missing(b[sort.key]) ? -order : order;
      });
    }
    clear(container);
    const bar = element("div", { class: "table-tools" });
    bar.appendChild(element("span", { class: "count" }, num(shown.length) + (shown.length === 1 ? " row" : " rows")));
    const csv = element("button", { type: "button", class: "csv", title: "Download these rows as CSV" }, "CSV");
    csv.addEventListener("click", function () {
      const lines = [spec.columns.map(function (c) { return csvCell({ kind: "text" }, c.title); }).join(",")];
      shown.forEach(function (r) { lines.push(spec.columns.map(function (c) { return csvCell(c, r[c.key]); }).join(",")); });
      download((container.dataset.table || container.dataset.widget || "table") + ".csv", new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" }));
    });
    bar.appendChild(csv);
    container.appendChild(bar);
    const box = element("div", { class: "table-box" });
    const table = element("table");
    const head = table.createTHead().insertRow();
    spec.columns.forEach(function (c) {
      const th = element("th", { scope: "col" });
      if (NUMERIC.has(c.kind)) th.className = "num";
      th.setAttribute("aria-sort", sort.key === c.key ? (sort.descending ? "descending" : "ascending") : "none");
      const button = element("button", { type: "button", "data-key": c.key }, c.title);
      button.addEventListener("click", function () {
        if (sort.key === c.key) sort.descending = !sort.descending;
        else { sort.key = c.key; sort.descending = NUMERIC.has(c.kind); }
        renderTable(container, spec, rows);
      });
      th.appendChild(button);
      head.appendChild(th);
    });
    const body = table.createTBody();
    shown.forEach(function (r) {
      const tr = body.insertRow();
      // The month in progress is compared on the same days only: its changes are no trend to
      // colour as a gain or a loss.
      const inProgress = r.month_status === "in progress";
      if (inProgress) tr.className = "in-progress";
      if (r.status === "quarantined") tr.className = "quarantined";
      spec.columns.forEach(function (c) {
        const td = tr.insertCell();
        const v = r[c.key];
        td.textContent = cellText(c, v);
        if (NUMERIC.has(c.kind)) td.className = "num";
        if ((c.kind === "signed" || c.kind === "points") && !c.plain && !inProgress && !missing(v)) td.classList.add(v >= 0 ? "up" : "down");
        if (c.title_key && r[c.title_key]) td.title = r[c.title_key];
      });
    });
    box.appendChild(table);
    container.appendChild(box);
  }

  // -- widgets ---------------------------------------------------------------------------------
  function monthRows() {
    const progress = asOf.month_in_progress;
    return aggregate("ingest_month").map(function (r) {
      const m = month(r.value);
      return Object.assign({}, r, { label: m === progress ? [m, "in progress"] : m, month: m });
    });
  }

  function setMonthTiles(view) {
    if (view.last) {
      setText("tile-last-month-label", "Last complete month · " + view.last.month);
      setText("tile-last-month", num(view.last.row.bookings));
      setText("tile-last-month-note", "bookings; vs " + view.last.previous + ": " + signedPct(view.last.mom) + " · vs " + view.last.yearBefore + ": " + signedPct(view.last.yoy));
    } else {
      setText("tile-last-month-label", "Last complete month");
      setText("tile-last-month", "none yet");
      setText("tile-last-month-note", "every booking arrived in the month in progress");
    }
    const p = view.progress;
    if (p) {
      setText("tile-progress-label", p.month + " so far (in progress, " + dayRange(p.days) + ")");
      setText("tile-progress", num(p.row.bookings));
      setText("tile-progress-note", "bookings; vs the same days of " + p.previous + ": " + signedPct(p.mom) + " · of " + p.yearBefore + ": " + signedPct(p.yoy));
    } else {
      setText("tile-progress-label", "Month in progress");
      setText("tile-progress", "–");
      setText("tile-progress-note", "no bookings for these filters yet");
    }
  }

  const widgets = {
    "marketing-tiles": function () {
      const t = totals();
      setText("tile-bookings", num(t.bookings));
      setText("tile-outcome", num(t.with_outcome) + " with an outcome · " + num(t.bookings - t.with_outcome) + " live");
      setText("tile-completion", pct(t.rate));
      const ci = wilson(t.completed, t.with_outcome);
      setText("tile-completed", num(t.completed) + " completed" + (ci ? " (95%: " + pct(ci[0]) + " to " + pct(ci[1]) + ")" : ""));
      setText("tile-extras", pct(t.bookings ? t.with_extras / t.bookings : null));
      setMonthTiles(monthView());
      setText("tile-live", num(t.bookings - t.with_outcome));
      setText("tile-live-note", t.live_scored ?
        "predicted completion " + pct(t.live_predicted / t.live_scored) + " · ≈ " + num(t.live_predicted) + " expected completions" :
        "no live booking scored by the model");
    },
    "direction-tiles": function () {
      const view = monthView();
      const w = windows(view, 12);
      const spark = view.complete.slice(-24);
      const sparkRows = spark.map(function (m) { return view.byMonth.get(m); });
      const label = w.full ? "last 12 complete months" : w.recent.length + " complete month" + (w.recent.length === 1 ? "" : "s");
      const bookings = sum(w.recent, "bookings");
      const withOutcome = sum(w.recent, "with_outcome"), completed = sum(w.recent, "completed");
      const rate = withOutcome ? completed / withOutcome : null;
      const extras = bookings ? sum(w.recent, "with_extras") / bookings : null;
      setText("macro-period", label + (w.recent.length ? " (" + view.complete.slice(-12)[0] + " to " + view.complete[view.complete.length - 1] + ")" : ""));
      setText("macro-bookings", num(bookings));
      setText("macro-completion", pct(rate));
      setText("macro-extras", pct(extras));
      if (w.earlier) {
        const eb = sum(w.earlier, "bookings"), eo = sum(w.earlier, "with_outcome"), ec = sum(w.earlier, "completed");
        const bookingsChange = change(bookings, eb);
        const rateDelta = rate !== null && eo ? rate - ec / eo : null;
        const extrasDelta = extras !== null && eb ? extras - sum(w.earlier, "with_extras") / eb : null;
        setText("macro-bookings-change", signedPct(bookingsChange) + " vs the 12 months before"); setTrend("macro-bookings-change", bookingsChange);
        setText("macro-completion-change", points(rateDelta) + " vs the 12 months before"); setTrend("macro-completion-change", rateDelta);
        setText("macro-extras-change", points(extrasDelta) + " vs the 12 months before"); setTrend("macro-extras-change", extrasDelta);
      } else {
        ["macro-bookings-change", "macro-completion-change", "macro-extras-change"].forEach(function (id) {
          setText(id, "no 12 complete months before them to compare with"); setTrend(id, null);
        });
      }
      const canvas = function (id) { return document.getElementById(id); };
      if (canvas("spark-bookings")) sparkline(canvas("spark-bookings"), spark, sparkRows.map(function (r) { return r.bookings; }), num);
      if (canvas("spark-completion")) sparkline(canvas("spark-completion"), spark, sparkRows.map(function (r) { return r.rate; }), function (v) { return pct(v); });
      if (canvas("spark-extras")) sparkline(canvas("spark-extras"), spark, sparkRows.map(function (r) { return r.bookings ? r.with_extras / r.bookings : null; }), function (v) { return pct(v); });
      // Year to date: the complete months of the latest year against the same months before.
      const lastMonth = view.complete[view.complete.length - 1];
      if (lastMonth) {
        const year = lastMonth.slice(0, 4);
        const months = view.complete.filter(function (m) { return m.slice(0, 4) === year; });
        const now = months.map(function (m) { return view.byMonth.get(m); });
        const before = months.map(function (m) { return view.byMonth.get(shiftMonth(m, -12)); });
        const ytd = sum(now, "bookings");
        setText("macro-ytd-label", year + " to date (" + months.length + " complete month" + (months.length === 1 ? "" : "s") + ")");
        setText("macro-ytd", num(ytd));
        if (before.every(Boolean)) {
          const delta = change(ytd, sum(before, "bookings"));
          setText("macro-ytd-change", signedPct(delta) + " vs the same months of " + (Number(year) - 1)); setTrend("macro-ytd-change", delta);
        } else {
          setText("macro-ytd-change", "the same months of " + (Number(year) - 1) + " are not all in the lake"); setTrend("macro-ytd-change", null);
        }
      }
    },
    "analyst-tiles": function () {
      const t = totals();
      setText("tile-bookings", num(t.bookings));
      setText("tile-completion", "completion " + pct(t.rate) + " over " + num(t.with_outcome) + " with an outcome");
    },
    chart: function (node) {
      const kind = node.dataset.chart;
      const card = node.closest(".card");
      if (kind === "months") {
        const rows = monthRows();
        const progress = rows.findIndex(function (r) { return r.month === asOf.month_in_progress; });
        volumeRateChart(node, rows, { line: true, live: rows.some(function (r) { return r.bookings > r.with_outcome; }), progress: progress });
      } else if (kind === "live") {
        const rows = aggregate(node.dataset.dimension).filter(function (r) { return r.live_scored > 0; });
        drawLiveBars(node, rows);
      } else {
        let rows = aggregate(node.dataset.dimension);
        const top = Number(node.dataset.top || 0);
        if (top) rows = rows.slice().sort(function (a, b) { return b.bookings - a.bookings; }).slice(0, top);
        rows = rows.map(function (r) { return Object.assign({}, r, { label: r.value }); });
        const horizontal = node.dataset.horizontal === "1";
        if (horizontal) node.parentElement.style.height = Math.max(160, rows.length * 26 + 90) + "px";
        volumeRateChart(node, rows, { line: node.dataset.line === "1", horizontal: horizontal });
      }
      if (card) attachExport(card);
    },
    segments: function (node) {
      const rows = (DATA.segments || []).filter(segmentMatches).slice(0, Number(node.dataset.top || 25));
      renderTable(node, DATA.tables.segment_opportunities, rows);
    },
    "live-segments": function (node) {
      const all = (DATA.live_segments || []).filter(segmentMatches);
      const rows = all.slice(0, Number(node.dataset.top || 15));
      renderTable(node, DATA.tables.live_bookings_by_segment, rows);
      const canvas = document.querySelector("canvas[data-chart='live-scatter']");
      if (canvas) { liveScatter(canvas, all, rows.slice(0, 10)); attachExport(canvas.closest(".card")); }
    },
  };

  function drawLiveBars(canvas, rows) {
    const predicted = rows.map(function (r) { return r.live_predicted / r.live_scored; });
    return draw(canvas, {
      data: {
        labels: rows.map(function (r) { return r.value; }),
        datasets: [
          { type: "bar", label: "Live bookings scored", data: rows.map(function (r) { return r.live_scored; }), backgroundColor: COLOR.live, yAxisID: "bookings", order: 2 },
          { type: "line", label: "Predicted completion", data: predicted, borderColor: COLOR.rate, pointBackgroundColor: COLOR.rate, pointRadius: 4, showLine: canvas.dataset.line === "1", yAxisID: "rate", order: 1 },
          { type: "line", label: "Completion rate so far (bookings with an outcome)", data: rows.map(function (r) { return r.rate; }), borderColor: COLOR.muted, pointBackgroundColor: "#ffffff", pointBorderColor: COLOR.muted, pointRadius: 4, showLine: false, yAxisID: "rate", order: 0 },
        ],
      },
      options: {
        scales: {
          x: { grid: { display: false }, ticks: { callback: function (v) { return shorten(this.getLabelForValue(v), 16); } } },
          bookings: { axis: "y", position: "left", beginAtZero: true, title: { display: true, text: "Live bookings" }, ticks: { callback: function (v) { return compactFormat.format(v); } } },
          rate: rateAxis(predicted.concat(rows.map(function (r) { return r.rate; })).filter(function (v) { return !missing(v); }).map(function (v) { return [0, v]; }),
            { axis: "y", position: "right", grid: { drawOnChartArea: false }, title: { display: true, text: "Completion" } }),
        },
        plugins: {
          tooltip: {
            callbacks: {
              label: function (ctx) {
                const r = rows[ctx.dataIndex];
                if (ctx.datasetIndex === 0) return "Live bookings scored: " + num(r.live_scored) + " (≈ " + num(r.live_predicted) + " expected completions)";
                return ctx.dataset.label + ": " + pct(ctx.raw);
              },
            },
          },
        },
      },
    });
  }

  function segmentMatches(s) {
    return (!state.sales_channel || s.sales_channel === state.sales_channel) &&
      (!state.booking_origin_region || s.booking_origin_region === state.booking_origin_region);
  }

  // -- filters, kept in the URL's fragment and carried by the links to the other pages ---------
  function fragment() {
    const params = new URLSearchParams();
    FILTERS.forEach(function (f) { if (state[f]) params.set(f, state[f]); });
    const text = params.toString();
    return text ? "#" + text : "";
  }

  function readFragment() {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    FILTERS.forEach(function (f) {
      const select = document.getElementById("filter-" + f);
      const value = params.get(f) || "";
      const known = select && Array.from(select.options).some(function (o) { return o.value === value; });
      state[f] = known ? value : "";
      if (select) select.value = state[f];
    });
  }

  function writeFragment() {
    const wanted = fragment();
    if (location.hash !== wanted && !(wanted === "" && location.hash === "#")) {
      try {
        history.replaceState(null, "", wanted || location.pathname + location.search);
      } catch (error) {
        location.hash = wanted;  // a browser refusing replaceState on a file: page
      }
    }
    document.querySelectorAll("a[data-page]").forEach(function (link) {
      link.setAttribute("href", link.dataset.page + wanted);
    });
  }

  function render() {
    const chosen = FILTERS.filter(function (f) { return state[f]; }).map(function (f) { return state[f]; });
    setText("filter-summary", chosen.length ? "filtered: " + chosen.join(" · ") : "all bookings");
    document.querySelectorAll("[data-widget]").forEach(function (node) {
      const paint = widgets[node.dataset.widget];
      if (paint) paint(node);
    });
    document.querySelectorAll("canvas[data-chart]").forEach(function (node) {
      if (node.dataset.chart !== "live-scatter" && !node.dataset.static) widgets.chart(node);
    });
  }

  function staticParts() {
    document.querySelectorAll("[data-table]").forEach(function (node) {
      const spec = DATA.tables[node.dataset.table];
      if (spec) renderTable(node, spec, spec.rows);
    });
    document.querySelectorAll("canvas[data-histogram]").forEach(function (node) {
      node.dataset.static = "1";
      const rows = (DATA.distributions || []).filter(function (r) { return r.measure === node.dataset.histogram; })
        .map(function (r) { return { label: decimal(r.bucket_start).replace(/\.0$/, ""), bookings: r.bookings, with_outcome: r.with_outcome, completed: r.completed }; });
      volumeRateChart(node, rows, { line: false });
      attachExport(node.closest(".card"));
    });
    document.querySelectorAll("canvas[data-reasons]").forEach(function (node) {
      node.dataset.static = "1";
      const rows = (DATA.reasons || []).slice(0, 15);
      node.parentElement.style.height = Math.max(160, rows.length * 26 + 80) + "px";
      draw(node, {
        type: "bar",
        data: { labels: rows.map(function (r) { return r.reason; }), datasets: [{ label: "Rejected rows", data: rows.map(function (r) { return r.rejected_rows; }), backgroundColor: COLOR.bar }] },
        options: {
          indexAxis: "y",
          scales: { x: { beginAtZero: true, ticks: { callback: function (v) { return compactFormat.format(v); } } }, y: { grid: { display: false } } },
          plugins: { tooltip: { callbacks: { label: function (ctx) { const r = rows[ctx.dataIndex]; return num(r.rejected_rows) + " rows (" + pct(r.share_of_rejected) + " of rejected rows)"; } } } },
        },
      });
      attachExport(node.closest(".card"));
    });
  }

  FILTERS.forEach(function (f) {
    const select = document.getElementById("filter-" + f);
    if (!select) return;
    ((DATA.orders || {})[f] || []).forEach(function (v) { select.appendChild(element("option", { value: v }, v)); });
    select.addEventListener("change", function () { state[f] = select.value; writeFragment(); render(); });
  });
  window.addEventListener("hashchange", function () { readFragment(); writeFragment(); render(); });
  readFragment();
  writeFragment();
  staticParts();
  render();
  document.body.dataset.ready = "1";
})();
