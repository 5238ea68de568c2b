// cjm journey map editor: inline editing, reordering by drag or buttons,
// emotions. Every change is one edit posted to /journeys/ID/edit; on
// success the page reloads at the same scroll position and focus.
(function () {
  'use strict';
  var grid = document.querySelector('.jm-scroll[data-map]');
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
  // A persona photo is read in the browser and kept in the map as a data
  // URI (at most 250 KB as a file), so the map carries it into every export.
  document.querySelectorAll('input[type=file][data-avatar-for]').forEach(function (input) {
    input.addEventListener('change', function () {
      var f = input.files && input.files[0];
      var target = document.getElementById(input.getAttribute('data-avatar-for'));
      if (!f || !target) return;
      if (f.size > 250 * 1024) { window.alert(input.getAttribute('data-too-big')); input.value = ''; return; }
      var r = new FileReader();
      r.onload = function () { target.value = r.result; };
      r.readAsDataURL(f);
    });
  });
  if (!grid) return;
  // The measured numbers come after the page, from the matchers over the
  // last 30 days.
  var measures = grid.getAttribute('data-measures');
  if (measures) {
    fetch(measures, { credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (m) {
        grid.querySelectorAll('[data-measure]').forEach(function (el) {
          var v = m[el.getAttribute('data-measure')];
          if (v) el.textContent = v;
        });
      }).catch(function () { /* the numbers are optional */ });
  }
  var mapID = grid.getAttribute('data-map');
  var version = parseInt(grid.getAttribute('data-version'), 10);
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  var status = document.querySelector('[data-status]');
  var busy = false;

  // Restore the scroll position and focus saved before the last reload.
  try {
    var saved = JSON.parse(sessionStorage.getItem('jm-restore') || 'null');
    sessionStorage.removeItem('jm-restore');
    if (saved && saved.map === mapID) {
      window.scrollTo(0, saved.y);
      grid.scrollLeft = saved.x;
      var el = saved.focus && document.getElementById(saved.focus);
      if (el) el.focus({ preventScroll: true });
    }
  } catch (e) { /* storage may be off */ }

  function say(msg, isError) {
    if (!status) return;
    status.textContent = msg;
    status.className = 'jm-status' + (isError ? ' jm-status-error' : '');
  }

  function send(edits, focusID) {
    if (busy) return;
    busy = true;
    say('…');
    fetch('/journeys/' + encodeURIComponent(mapID) + '/edit', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({ base: version, edits: edits })
    }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      busy = false;
      if (!res.ok) { say(res.body.error || 'Error', true); return; }
      try {
        sessionStorage.setItem('jm-restore', JSON.stringify({ map: mapID, y: window.scrollY, x: grid.scrollLeft, focus: focusID || '' }));
      } catch (e) { /* ignore */ }
      window.location.reload();
    }).catch(function () { busy = false; say('Network error', true); });
  }

  function editOf(el, attr) { return JSON.parse(el.getAttribute(attr)); }

  // Inline text editing: the button becomes an input (or textarea); Enter
  // saves (Shift+Enter is a new line in a textarea), Escape cancels.
  function openEditor(btn, onSave) {
    var multi = btn.hasAttribute('data-multiline');
    var input = document.createElement(multi ? 'textarea' : 'input');
    input.className = 'jm-input';
    input.value = btn.getAttribute('data-value') || '';
    input.setAttribute('aria-label', btn.getAttribute('data-prompt') || btn.textContent.trim());
    if (multi) input.rows = 3;
    btn.hidden = true;
    btn.parentNode.insertBefore(input, btn.nextSibling);
    input.focus();
    if (input.select) input.select();
    var done = false;
    function close(save) {
      if (done) return;
      done = true;
      var v = input.value.trim();
      input.remove();
      btn.hidden = false;
      if (save && v !== (btn.getAttribute('data-value') || '')) onSave(v); else btn.focus();
    }
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { e.preventDefault(); close(false); }
      if (e.key === 'Enter' && !(multi && e.shiftKey)) { e.preventDefault(); close(true); }
    });
    input.addEventListener('blur', function () { close(true); });
  }

  grid.addEventListener('click', function (e) {
    var t = e.target.closest('[data-edit],[data-add],[data-remove],[data-move],[data-emotion-label]');
    if (!t || t.tagName === 'SELECT') return;
    e.preventDefault();
    if (t.hasAttribute('data-edit')) {
      openEditor(t, function (v) {
        var ed = editOf(t, 'data-edit');
        ed.value = v;
        send([ed], t.id);
      });
    } else if (t.hasAttribute('data-emotion-label')) {
      openEditor(t, function (v) {
        send([{ op: 'set', target: 'stage:' + t.getAttribute('data-emotion-label'), field: 'emotion',
          value: { score: parseInt(t.getAttribute('data-score'), 10), label: v } }], t.id);
      });
    } else if (t.hasAttribute('data-add')) {
      t.setAttribute('data-value', '');
      openEditor(t, function (v) {
        if (!v) return;
        var ed = editOf(t, 'data-add');
        ed.value = ed.field === 'card' ? { text: v } : { name: v };
        send([ed], '');
      });
    } else if (t.hasAttribute('data-remove')) {
      var msg = t.getAttribute('data-confirm');
      if (msg && !window.confirm(msg)) return;
      send([editOf(t, 'data-remove')], '');
    } else if (t.hasAttribute('data-move')) {
      send([editOf(t, 'data-move')], '');
    }
  });

  // Emotion scores.
  grid.addEventListener('change', function (e) {
    var sel = e.target.closest('select[data-emotion]');
    if (!sel) return;
    var target = 'stage:' + sel.getAttribute('data-emotion');
    var field = sel.getAttribute('data-field');
    var value = sel.value === '' ? null : { score: parseInt(sel.value, 10), label: sel.getAttribute('data-label') || '' };
    send([{ op: 'set', target: target, field: field, value: value }], sel.id);
  });

  // Drag and drop: stages by their header, touchpoints within and across stages.
  var drag = null;
  grid.addEventListener('dragstart', function (e) {
    var tp = e.target.closest && e.target.closest('.jm-tp[draggable]');
    var st = e.target.closest && e.target.closest('th.jm-stage[draggable]');
    if (tp) drag = { kind: 'touchpoint', key: tp.getAttribute('data-tp') };
    else if (st) drag = { kind: 'stage', key: st.getAttribute('data-stage') };
    else return;
    e.dataTransfer.effectAllowed = 'move';
    e.dataTransfer.setData('text/plain', drag.key);
    (tp || st).classList.add('jm-dragging');
  });
  grid.addEventListener('dragend', function () {
    drag = null;
    grid.querySelectorAll('.jm-dragging,.jm-drop').forEach(function (el) { el.classList.remove('jm-dragging', 'jm-drop'); });
  });
  function dropTarget(e) {
    if (!drag) return null;
    if (drag.kind === 'stage') return e.target.closest('th.jm-stage');
    return e.target.closest('.jm-tp') || e.target.closest('td.jm-dropzone');
  }
  grid.addEventListener('dragover', function (e) {
    var t = dropTarget(e);
    if (!t) return;
    e.preventDefault();
    grid.querySelectorAll('.jm-drop').forEach(function (el) { el.classList.remove('jm-drop'); });
    t.classList.add('jm-drop');
  });
  grid.addEventListener('drop', function (e) {
    var t = dropTarget(e);
    if (!t) return;
    e.preventDefault();
    if (drag.kind === 'stage') {
      var to = parseInt(t.getAttribute('data-index'), 10);
      if (t.getAttribute('data-stage') !== drag.key) send([{ op: 'move', target: 'stage:' + drag.key, index: to }], '');
      return;
    }
    var cell = t.closest('td.jm-dropzone');
    var ed = { op: 'move', target: 'touchpoint:' + drag.key, stage: cell.getAttribute('data-stage'), index: -1 };
    if (t.classList.contains('jm-tp')) {
      if (t.getAttribute('data-tp') === drag.key) return;
      ed.index = parseInt(t.getAttribute('data-index'), 10);
    }
    send([ed], '');
  });
})();
