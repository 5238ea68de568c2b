// cjm web UI: small progressive enhancements. Every page works without it.
(function () {
  'use strict';
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';

  // Buttons only needed without JavaScript.
  $$('[data-js-hide]').forEach(function (el) { el.hidden = true; });

  // A select that submits its form when changed (workspace switcher).
  $$('select[data-autosubmit]').forEach(function (sel) {
    sel.addEventListener('change', function () { sel.form.submit(); });
  });

  // Navigation drawer on small screens, over a dimmed backdrop that closes
  // it when clicked.
  var toggle = document.querySelector('[data-menu-toggle]');
  if (toggle) {
    var backdrop = document.createElement('div');
    backdrop.className = 'nav-backdrop';
    backdrop.setAttribute('data-nav-backdrop', '');
    document.body.appendChild(backdrop);
    var setOpen = function (open) {
      document.body.classList.toggle('nav-open', open);
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    };
    toggle.addEventListener('click', function () { setOpen(!document.body.classList.contains('nav-open')); });
    backdrop.addEventListener('click', function () { setOpen(false); });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && document.body.classList.contains('nav-open')) { setOpen(false); toggle.focus(); }
    });
  }

  // The events page's filters fold away on small screens so the events come
  // first; on wide screens there is room, so they start open. The server
  // opens them when a filter is set.
  if (window.matchMedia && window.matchMedia('(min-width: 901px)').matches) {
    $$('details[data-filter-box]').forEach(function (d) { d.open = true; });
  }

  // The user menu closes on Escape and on a click elsewhere.
  $$('details.user-menu').forEach(function (d) {
    document.addEventListener('click', function (e) { if (d.open && !d.contains(e.target)) d.open = false; });
    d.addEventListener('keydown', function (e) {
      if (e.key === 'Escape' && d.open) { d.open = false; d.querySelector('summary').focus(); }
    });
  });

  // Copy buttons: data-copy names the element whose text is copied.
  $$('[data-copy]').forEach(function (btn) {
    btn.addEventListener('click', function () {
      var el = document.getElementById(btn.getAttribute('data-copy'));
      if (!el) return;
      var text = el.textContent;
      var done = function () {
        var label = btn.textContent;
        btn.textContent = btn.getAttribute('data-copied') || label;
        setTimeout(function () { btn.textContent = label; }, 1600);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { selectText(el); });
      } else {
        selectText(el);
        try { if (document.execCommand('copy')) done(); } catch (e) { /* the text stays selected */ }
      }
    });
  });
  function selectText(el) {
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }

  // Forms that ask before doing something that cannot be undone.
  $$('form[data-confirm]').forEach(function (f) {
    f.addEventListener('submit', function (e) {
      if (!window.confirm(f.getAttribute('data-confirm'))) e.preventDefault();
    });
  });

  // Tabs (ARIA tabs pattern); without JavaScript every panel shows.
  $$('[data-tabs]').forEach(function (box) {
    var tabs = $$('[role="tab"]', box);
    var select = function (tab, focus) {
      tabs.forEach(function (t) {
        var on = t === tab;
        t.setAttribute('aria-selected', on ? 'true' : 'false');
        t.tabIndex = on ? 0 : -1;
        document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
      });
      if (focus) tab.focus();
    };
    box.classList.add('js-tabs');
    tabs.forEach(function (t, i) {
      t.addEventListener('click', function () { select(t, false); });
      t.addEventListener('keydown', function (e) {
        var j = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : -1;
        if (j === -1 && e.key !== 'ArrowLeft') return;
        e.preventDefault();
        select(tabs[(j + tabs.length) % tabs.length], true);
      });
    });
    if (tabs.length) select(tabs[0], false);
  });

  // Upload form: the new-source fields show only for "New source"; a file
  // over the limit is refused before it is sent; the button says the upload
  // is on its way (a large file takes a while).
  $$('select[data-source-select]').forEach(function (sel) {
    var box = sel.form.querySelector('[data-new-source]');
    if (!box) return;
    var sync = function () { box.hidden = sel.value !== 'new'; };
    sel.addEventListener('change', function () {
      sync();
      if (!box.hidden) box.querySelector('input').focus();
    });
    sync();
  });
  $$('form[data-upload]').forEach(function (f) {
    var input = f.querySelector('input[type="file"][data-max-bytes]');
    var msg = f.querySelector('[data-file-error]');
    var tooLarge = function () {
      var max = Number(input.getAttribute('data-max-bytes'));
      return input.files && input.files[0] && max > 0 && input.files[0].size > max;
    };
    var check = function () {
      var bad = tooLarge();
      msg.hidden = !bad;
      msg.textContent = bad ? input.getAttribute('data-too-large') : '';
      if (bad) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
      return !bad;
    };
    if (input && msg) input.addEventListener('change', check);
    f.addEventListener('submit', function (e) {
      if (input && msg && !check()) { e.preventDefault(); input.focus(); return; }
      var btn = f.querySelector('[data-busy-label]');
      if (btn) {
        // Disabled after this event, so the form is still submitted.
        setTimeout(function () { btn.disabled = true; btn.textContent = btn.getAttribute('data-busy-label'); }, 0);
      }
    });
  });

  // Column mapping: the custom time format field shows only for "Other format".
  $$('select[data-custom-toggle]').forEach(function (sel) {
    var field = sel.form.querySelector('[data-custom-field]');
    if (!field) return;
    var sync = function () { field.hidden = sel.value !== 'custom'; };
    sel.addEventListener('change', function () {
      sync();
      if (!field.hidden) field.querySelector('input').focus();
    });
    sync();
  });

  // Column mapping: under each column of "Other columns", the core fields
  // it fills, kept up to date as they are chosen.
  $$('form[data-mapping]').forEach(function (f) {
    var cores = $$('select[data-core]', f);
    var sync = function () {
      $$('[data-column]', f).forEach(function (th) {
        var col = th.getAttribute('data-column');
        var used = cores.filter(function (s) { return s.value === col; })
          .map(function (s) { return '\u2192 ' + s.getAttribute('data-core'); });
        th.querySelector('[data-used-as]').textContent = used.join(', ');
      });
    };
    cores.forEach(function (s) { s.addEventListener('change', sync); });
  });

  // Import progress: poll the job's status every second; when it is no
  // longer running, reload to show the result.
  var job = document.querySelector('[data-import-status]');
  if (job) {
    var jobBusy = false;
    var bar = job.querySelector('[data-progress]');
    var phase = job.querySelector('[data-phase]');
    var pct = job.querySelector('[data-percent]');
    var tick = function () {
      if (jobBusy || document.hidden) return;
      jobBusy = true;
      fetch(job.getAttribute('data-import-status'), { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (d) {
          if (d.state !== 'running') { window.location.reload(); return; }
          if (bar) { bar.value = d.percent; bar.textContent = d.percent + '%'; }
          if (pct) pct.textContent = d.percent + '%';
          if (phase && phase.textContent !== d.phase) phase.textContent = d.phase;
          Object.keys(d.stats || {}).forEach(function (k) {
            var el = job.querySelector('[data-stat="' + k + '"]');
            if (el) el.textContent = d.stats[k];
          });
        })
        .catch(function () { /* tried again in a second */ })
        .then(function () { jobBusy = false; });
    };
    setInterval(tick, 1000);
  }

  // Live events: poll the feed every 2 s and put new rows on top.
  var list = document.querySelector('[data-feed]');
  var btn = document.querySelector('[data-live-toggle]');
  if (list && btn) {
    var status = document.querySelector('[data-live-status]');
    var statusText = document.querySelector('[data-live-text]');
    var after = list.getAttribute('data-after') || '0';
    var paused = false, busy = false, maxRows = 500;
    btn.hidden = false;
    var show = function (cls, text) {
      status.classList.remove('is-paused', 'is-error');
      if (cls) status.classList.add(cls);
      statusText.textContent = text;
    };
    btn.addEventListener('click', function () {
      paused = !paused;
      btn.setAttribute('aria-pressed', paused ? 'true' : 'false');
      btn.textContent = btn.getAttribute(paused ? 'data-label-resume' : 'data-label-pause');
      show(paused ? 'is-paused' : '', btn.getAttribute(paused ? 'data-text-paused' : 'data-text-live'));
      if (!paused) poll();
    });
    var poll = function () {
      if (paused || busy || document.hidden) return;
      busy = true;
      var url = list.getAttribute('data-feed');
      url += (url.indexOf('?') < 0 ? '?' : '&') + 'after=' + encodeURIComponent(after);
      fetch(url, { headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf }, credentials: 'same-origin' })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (data) {
          if (paused) return; // fetched again on resume
          after = String(data.last);
          if (data.events && data.events.length) {
            var empty = document.querySelector('[data-empty]');
            if (empty) empty.remove();
            var tpl = document.createElement('template');
            tpl.innerHTML = data.html;
            $$('.row', tpl.content).forEach(function (row) { row.classList.add('is-new'); });
            list.insertBefore(tpl.content, list.firstChild);
            var rows = list.querySelectorAll('.row');
            for (var i = rows.length - 1; i >= maxRows; i--) rows[i].remove();
            show('', btn.getAttribute('data-text-new').replace('%d', data.events.length));
          } else {
            show('', btn.getAttribute('data-text-live'));
          }
        })
        .catch(function () { show('is-error', btn.getAttribute('data-text-error')); })
        .then(function () { busy = false; });
    };
    setInterval(poll, 2000);
  }
})();
