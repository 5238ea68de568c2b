// cjm charts: draws every [data-chart] element with Apache ECharts
// (static/vendor/echarts, loaded before this file) from the JSON spec in the
// <script type="application/json"> element its data-chart attribute names.
// The server writes the specs, with every word already in the page's
// language; the table beside each chart holds the same numbers, so without
// JavaScript (or without ECharts) only the tables show.
//
// Spec: {kind, lang, summary, orient?, labels?, values?, series?: [{name,
// data}], unit?: "%", text?: {...}, y?, cells?, nodes?, links?}, where kind
// is one of funnel, line, bars, sankey, heatmap, kpi (see the builders).
//
// The canvas renderer and plain-text tooltips (renderMode "richText") keep
// ECharts inside the strict Content-Security-Policy: it sets styles only
// through the CSSOM, never through style attributes in markup.
//
// Also here, for any page: a table[data-csv] gets a button that downloads
// the table as CSV (RFC 4180, UTF-8 with a byte order mark so Excel reads
// Vietnamese), named by data-csv and labelled by data-csv-label; a cell's
// data-csv-value replaces its text, data-csv-skip leaves the cell out.
(function () {
  'use strict';
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  // --- CSV download of tables ------------------------------------------

  function csvCell(v) {
    // A text that a spreadsheet would run as a formula is written as text.
    if (/^[=+\-@\t\r]/.test(v) && isNaN(Number(v))) v = "'" + v;
    return /[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v;
  }

  function tableCSV(table) {
    var lines = [];
    $$('tr', table).forEach(function (tr) {
      if (tr.closest('table') !== table) return;
      var cells = [];
      Array.prototype.forEach.call(tr.cells, function (c) {
        if (c.hasAttribute('data-csv-skip')) return;
        var v = c.hasAttribute('data-csv-value') ? c.getAttribute('data-csv-value') : c.textContent.replace(/\s+/g, ' ').trim();
        cells.push(csvCell(v));
      });
      lines.push(cells.join(','));
    });
    return '\ufeff' + lines.join('\r\n') + '\r\n';
  }

  function download(name, text) {
    var url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
    var a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.hidden = true;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 4000);
  }

  $$('table[data-csv]').forEach(function (table) {
    var label = table.getAttribute('data-csv-label') || 'CSV';
    var bar = document.createElement('div');
    bar.className = 'csv-bar';
    var btn = document.createElement('button');
    btn.type = 'button';
    btn.className = 'btn btn-small csv-btn';
    btn.textContent = label;
    var caption = table.caption && table.caption.textContent.trim();
    if (caption) btn.setAttribute('aria-label', label + ': ' + caption);
    btn.addEventListener('click', function () { download(table.getAttribute('data-csv') || 'table.csv', tableCSV(table)); });
    bar.appendChild(btn);
    var anchor = table.parentElement && table.parentElement.classList.contains('table-wrap') ? table.parentElement : table;
    anchor.parentNode.insertBefore(bar, anchor);
  });

  // --- The funnel form ---------------------------------------------------

  // The custom dates show only for "Custom dates".
  $$('select[name="period"]').forEach(function (sel) {
    var box = sel.form && sel.form.querySelector('[data-period-dates]');
    if (!box) return;
    var sync = function () { box.hidden = sel.value !== 'custom'; };
    sel.addEventListener('change', function () {
      sync();
      if (!box.hidden) box.querySelector('input').focus();
    });
    sync();
  });
  // Empty step boxes stay out of the URL.
  $$('form.an-form').forEach(function (f) {
    f.addEventListener('submit', function () {
      $$('input[name="steps"]', f).forEach(function (i) { if (!i.value.trim()) i.disabled = true; });
    });
    window.addEventListener('pageshow', function () {
      $$('input[name="steps"]', f).forEach(function (i) { i.disabled = false; });
    });
  });

  // --- Charts ----------------------------------------------------------

  var echarts = window.echarts;
  var boxes = $$('[data-chart]');
  if (!echarts || !boxes.length) return;
  document.documentElement.classList.add('js-charts');

  var reduced = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  var css = window.getComputedStyle(document.documentElement);
  var v = function (name, fallback) { return css.getPropertyValue(name).trim() || fallback; };
  var C = {
    font: v('--font', 'system-ui, sans-serif'), text: v('--text', '#17212b'), text2: v('--text-2', '#4a5868'),
    muted: v('--muted', '#5f6d7c'), border: v('--border', '#dde3ea'), brand: v('--brand', '#0f766e'),
    brandSoft: v('--brand-soft', '#e3f4f1'), accent: v('--accent', '#4338ca'),
  };
  var palette = [C.brand, C.accent, '#c2410c', '#be185d', '#0369a1', '#4d7c0f', '#7e22ce', '#b91c1c', '#0f766e', '#475569'];

  function formats(lang) {
    var n = new Intl.NumberFormat(lang || undefined);
    var p = new Intl.NumberFormat(lang || undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    return {
      num: function (x) { return x == null || isNaN(x) ? '—' : n.format(x); },
      pct: function (x) { return x == null || isNaN(x) ? '—' : p.format(x) + '%'; },
    };
  }

  function axisLabel(extra) {
    var o = { color: C.text2, fontSize: 12, hideOverlap: true };
    for (var k in extra) o[k] = extra[k];
    return o;
  }
  var splitLine = { lineStyle: { color: C.border, type: 'dashed' } };
  var axisLine = { lineStyle: { color: C.border } };
  function tooltip(extra) {
    var o = { renderMode: 'richText', confine: true, backgroundColor: '#fff', borderColor: C.border, textStyle: { color: C.text, fontSize: 12 } };
    for (var k in extra) o[k] = extra[k];
    return o;
  }

  // funnel: spec.labels (steps), spec.values (how many reached each), the
  // words of spec.text; bars of the people at each step, the part that
  // dropped off since the previous step shaded on top, and the conversion
  // from the first and the previous step above each bar.
  function funnel(spec, f, el) {
    var vals = spec.values || [];
    var first = vals[0] || 0;
    var t = spec.text || {};
    var fromFirst = vals.map(function (x) { return first ? 100 * x / first : null; });
    var fromPrev = vals.map(function (x, i) { return i === 0 ? null : (vals[i - 1] ? 100 * x / vals[i - 1] : null); });
    var dropped = vals.map(function (x, i) { return i === 0 ? 0 : Math.max(0, vals[i - 1] - x); });
    var horizontal = spec.orient === 'horizontal';
    var n = Math.max(1, vals.length);
    var width = el.clientWidth || 600;
    // Narrow bars have room for the conversion from the first step only.
    var roomy = horizontal ? width >= 560 : width / n >= 130;
    var cat = {
      type: 'category', data: spec.labels, axisTick: { show: false }, axisLine: axisLine,
      axisLabel: axisLabel(horizontal ? { width: Math.min(220, width * 0.3), overflow: 'truncate' }
        : { interval: 0, width: Math.max(60, width / n - 16), overflow: 'break', lineHeight: 16, hideOverlap: false }),
    };
    var val = { type: 'value', axisLabel: axisLabel({ color: C.muted, formatter: f.num }), splitLine: splitLine };
    var pctLabel = {
      show: true, position: horizontal ? 'right' : 'top', distance: 6,
      formatter: function (p) {
        var i = p.dataIndex;
        var s = '{b|' + f.pct(fromFirst[i]) + '}';
        if (roomy && fromPrev[i] != null) s += (horizontal ? '  ' : '\n') + '{s|' + f.pct(fromPrev[i]) + ' ' + (t.fromPrev || '') + '}';
        return s;
      },
      rich: { b: { fontSize: roomy ? 15 : 12, fontWeight: 700, color: C.text, lineHeight: 20 }, s: { fontSize: 11, color: C.muted, lineHeight: 15 } },
    };
    return {
      color: [C.brand],
      legend: { top: 0, left: 0, itemWidth: 14, itemHeight: 10, textStyle: { color: C.text2, fontSize: 12 }, selectedMode: false },
      grid: { top: horizontal ? 34 : (roomy ? 74 : 58), left: 8, right: horizontal ? (roomy ? 190 : 64) : 12, bottom: 8, containLabel: true },
      tooltip: tooltip({
        trigger: 'axis', axisPointer: { type: 'shadow', shadowStyle: { color: 'rgba(15, 118, 110, 0.07)' } },
        formatter: function (ps) {
          var i = ps[0].dataIndex;
          var lines = [spec.labels[i], (t.reached || '') + ': ' + f.num(vals[i]) + ' (' + f.pct(fromFirst[i]) + ' ' + (t.fromFirst || '') + ')'];
          if (i > 0) lines.push((t.dropped || '') + ': ' + f.num(dropped[i]) + ' (' + f.pct(100 - fromPrev[i]) + ')');
          return lines.join('\n');
        },
      }),
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? Object.assign(cat, { inverse: true }) : val,
      series: [
        {
          name: t.reached, type: 'bar', stack: 'funnel', data: vals, barCategoryGap: '28%', barMaxWidth: 140,
          itemStyle: { color: C.brand },
          label: { show: true, position: horizontal ? 'insideRight' : 'insideTop', color: '#fff', fontWeight: 600, fontSize: 12, formatter: function (p) { return p.value ? f.num(p.value) : ''; } },
          emphasis: { disabled: true },
        },
        {
          name: t.dropped, type: 'bar', stack: 'funnel', data: dropped,
          itemStyle: { color: 'rgba(15, 118, 110, 0.12)', borderColor: 'rgba(15, 118, 110, 0.55)', borderWidth: 1, borderType: 'dashed' },
          label: pctLabel, emphasis: { disabled: true },
        },
      ],
    };
  }

  // line: spec.labels (periods) and spec.series, in percent with unit "%".
  function line(spec, f) {
    var fmt = spec.unit === '%' ? f.pct : f.num;
    var many = (spec.labels || []).length > 40;
    return {
      color: palette,
      legend: { type: 'scroll', top: 0, left: 0, textStyle: { color: C.text2, fontSize: 12 } },
      grid: { top: 40, left: 8, right: 28, bottom: 8, containLabel: true },
      tooltip: tooltip({ trigger: 'axis', valueFormatter: fmt }),
      xAxis: { type: 'category', data: spec.labels, boundaryGap: false, axisLine: axisLine, axisTick: { show: false }, axisLabel: axisLabel({}) },
      yAxis: { type: 'value', min: 0, axisLabel: axisLabel({ color: C.muted, formatter: spec.unit === '%' ? function (x) { return f.num(x) + '%'; } : f.num }), splitLine: splitLine },
      series: (spec.series || []).map(function (s) {
        return { name: s.name, type: 'line', data: s.data, showSymbol: !many, symbolSize: 6, lineStyle: { width: 2 }, connectNulls: false };
      }),
    };
  }

  // bars: spec.labels and spec.series (one series: a histogram).
  function bars(spec, f, el) {
    var fmt = spec.unit === '%' ? f.pct : f.num;
    var n = Math.max(1, (spec.labels || []).length);
    var width = el.clientWidth || 600;
    var rotate = width / n < 70 ? 35 : 0;
    var series = spec.series || [];
    return {
      color: palette,
      legend: series.length > 1 ? { top: 0, left: 0, textStyle: { color: C.text2 } } : { show: false },
      grid: { top: series.length > 1 ? 40 : 26, left: 8, right: 12, bottom: 8, containLabel: true },
      tooltip: tooltip({ trigger: 'axis', axisPointer: { type: 'shadow', shadowStyle: { color: 'rgba(15, 118, 110, 0.07)' } }, valueFormatter: fmt }),
      xAxis: { type: 'category', data: spec.labels, axisTick: { show: false }, axisLine: axisLine,
        axisLabel: axisLabel({ interval: 0, rotate: rotate, width: rotate ? 120 : Math.max(50, width / n - 10), overflow: rotate ? 'truncate' : 'break', hideOverlap: false }) },
      yAxis: { type: 'value', axisLabel: axisLabel({ color: C.muted, formatter: spec.unit === '%' ? function (x) { return f.num(x) + '%'; } : f.num }), splitLine: splitLine },
      series: series.map(function (s) {
        return { name: s.name, type: 'bar', data: s.data, barMaxWidth: 56, itemStyle: { borderRadius: [4, 4, 0, 0] },
          label: { show: n <= 16, position: 'top', color: C.text2, fontSize: 11, formatter: function (p) { return fmt(p.value); } } };
      }),
    };
  }

  // sankey: spec.nodes [{name}] and spec.links [{source, target, value}].
  function sankey(spec, f) {
    return {
      color: palette,
      tooltip: tooltip({ trigger: 'item', formatter: function (p) {
        return p.dataType === 'edge' ? p.data.source + ' → ' + p.data.target + ': ' + f.num(p.data.value) : p.name + ': ' + f.num(p.value);
      } }),
      series: [{
        type: 'sankey', left: 8, right: 140, top: 10, bottom: 10, nodeGap: 10, nodeWidth: 14, draggable: false,
        data: spec.nodes || [], links: spec.links || [], emphasis: { focus: 'adjacency' },
        lineStyle: { color: 'gradient', curveness: 0.5, opacity: 0.35 },
        label: { color: C.text, fontSize: 12 },
      }],
    };
  }

  // heatmap: spec.labels (x: periods), spec.y (rows: cohorts) and
  // spec.cells [[x, y, value]]; with unit "%" the cells are rates.
  function heatmap(spec, f) {
    var fmt = spec.unit === '%' ? f.pct : f.num;
    var max = 0;
    (spec.cells || []).forEach(function (c) { if (c[2] != null && c[2] > max) max = c[2]; });
    return {
      tooltip: tooltip({ trigger: 'item', formatter: function (p) {
        return (spec.y || [])[p.value[1]] + ' · ' + (spec.labels || [])[p.value[0]] + ': ' + fmt(p.value[2]);
      } }),
      grid: { top: 8, left: 8, right: 8, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: spec.labels, position: 'top', axisTick: { show: false }, axisLine: { show: false }, axisLabel: axisLabel({}), splitArea: { show: false } },
      yAxis: { type: 'category', data: spec.y, inverse: true, axisTick: { show: false }, axisLine: { show: false }, axisLabel: axisLabel({}) },
      visualMap: { show: false, min: 0, max: max || 1, inRange: { color: ['#f0f3f6', '#9fd6cd', C.brand] } },
      series: [{
        // Dark cells get light labels, so every label can be read.
        type: 'heatmap', itemStyle: { borderColor: '#fff', borderWidth: 2 },
        data: (spec.cells || []).map(function (c) {
          var dark = c[2] != null && max > 0 && c[2] > 0.6 * max;
          return dark ? { value: c, label: { color: '#fff', textBorderColor: 'rgba(0,0,0,0.35)' } } : { value: c };
        }),
        label: { show: true, fontSize: 11, color: C.text, textBorderColor: 'rgba(255,255,255,0.85)', textBorderWidth: 2, formatter: function (p) { return fmt(p.value[2]); } },
        emphasis: { itemStyle: { borderColor: C.text, borderWidth: 1 } },
      }],
    };
  }

  // kpi: a sparkline of spec.series[0] over spec.labels.
  function kpi(spec, f) {
    var s = (spec.series || [])[0] || { data: [] };
    var fmt = spec.unit === '%' ? f.pct : f.num;
    return {
      grid: { top: 4, left: 2, right: 2, bottom: 4 },
      tooltip: tooltip({ trigger: 'axis', valueFormatter: fmt }),
      xAxis: { type: 'category', data: spec.labels, show: false, boundaryGap: false },
      yAxis: { type: 'value', show: false, scale: true },
      series: [{ name: s.name, type: 'line', data: s.data, showSymbol: false, smooth: true, lineStyle: { width: 2, color: C.brand }, areaStyle: { color: C.brandSoft } }],
    };
  }

  var builders = { funnel: funnel, line: line, bars: bars, sankey: sankey, heatmap: heatmap, kpi: kpi };

  var charts = [];
  boxes.forEach(function (el) {
    var src = document.getElementById(el.getAttribute('data-chart'));
    if (!src) return;
    var spec;
    try {
      spec = JSON.parse(src.textContent);
    } catch (err) {
      return; // the table beside it still has the numbers
    }
    var build = builders[spec.kind];
    if (!build) return;
    if (spec.summary) {
      el.setAttribute('role', 'img');
      el.setAttribute('aria-label', spec.summary);
    }
    var f = formats(spec.lang || document.documentElement.lang);
    var chart = echarts.init(el, null, { renderer: 'canvas', locale: 'EN' });
    var draw = function () {
      var opt = build(spec, f, el);
      opt.animation = !reduced;
      opt.aria = { enabled: false }; // the element's aria-label says it, the table has the numbers
      opt.textStyle = { fontFamily: C.font };
      chart.setOption(opt, true);
    };
    draw();
    charts.push({ el: el, chart: chart, draw: draw, width: el.clientWidth });
  });

  // Resize with the window (and the layout): redraw when the width changed,
  // since label widths depend on it.
  var pending = false;
  var resize = function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      charts.forEach(function (c) {
        var w = c.el.clientWidth;
        if (w === c.width) return;
        c.width = w;
        c.chart.resize();
        c.draw();
      });
    });
  };
  window.addEventListener('resize', resize);
  if (window.ResizeObserver) {
    var ro = new ResizeObserver(resize);
    charts.forEach(function (c) { ro.observe(c.el); });
  }
})();
