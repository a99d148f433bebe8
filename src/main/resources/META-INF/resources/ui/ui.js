// raftkv cluster view: reads GET /v1/cluster/stream (Server-Sent Events) with fetch() and a stream reader, so that
// a bearer token can be sent (EventSource cannot send headers), and renders each "view" event. No libraries.
(function () {
  'use strict';

  var TOKEN_KEY = 'raftkv.token';
  var STALE_MS = 5000;
  var $ = function (id) { return document.getElementById(id); };

  var state = { controller: null, retryMs: 500, lastViewAt: 0, view: null, needToken: false, timer: null };

  function token() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }

  function headers(extra) {
    var h = extra || {};
    var t = token();
    if (t) { h.Authorization = 'Bearer ' + t; }
    return h;
  }

  function setConnection(kind, text) {
    var c = $('connection');
    c.className = 'conn conn-' + kind;
    c.dataset.state = kind;
    c.textContent = text;
  }

  // --- the stream ------------------------------------------------------------------------------------------

  function connect() {
    if (state.controller) { state.controller.abort(); }
    var controller = new AbortController();
    state.controller = controller;
    setConnection('connecting', 'connecting…');
    fetch('/v1/cluster/stream', { headers: headers({ Accept: 'text/event-stream' }), signal: controller.signal,
      cache: 'no-store' })
      .then(function (r) {
        if (r.status === 401 || r.status === 403) {
          return r.text().then(function (body) { askForToken(r.status, body); });
        }
        if (!r.ok || !r.body) {
          return r.text().then(function (body) { throw new Error('HTTP ' + r.status + ' ' + body); });
        }
        state.needToken = false;
        $('token-panel').hidden = true;
        $('token-change').hidden = !token();
        setConnection('live', 'live');
        state.retryMs = 500;
        return read(r.body.getReader(), controller);
      })
      .then(function () { if (!controller.signal.aborted && !state.needToken) { retry('the stream ended'); } })
      .catch(function (e) { if (!controller.signal.aborted) { retry(String(e && e.message || e)); } });
  }

  function retry(why) {
    setConnection('down', 'reconnecting (' + why + ')');
    clearTimeout(state.timer);
    state.timer = setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 5000);
  }

  // text/event-stream: lines end with CRLF, LF or CR; a blank line dispatches the event being built.
  function read(reader, controller) {
    var decoder = new TextDecoder('utf-8');
    var buffer = '';
    var ev = { name: '', data: [] };
    function line(l) {
      if (l === '') {
        if (ev.data.length) { dispatch(ev.name || 'message', ev.data.join('\n')); }
        ev = { name: '', data: [] };
        return;
      }
      if (l.charAt(0) === ':') { return; }
      var i = l.indexOf(':');
      var field = i < 0 ? l : l.slice(0, i);
      var value = i < 0 ? '' : l.slice(i + 1);
      if (value.charAt(0) === ' ') { value = value.slice(1); }
      if (field === 'event') { ev.name = value; } else if (field === 'data') { ev.data.push(value); }
    }
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done || controller.signal.aborted) { return; }
        buffer += decoder.decode(chunk.value, { stream: true });
        var m;
        var re = /\r\n|\r|\n/g;
        var start = 0;
        while ((m = re.exec(buffer)) !== null) {
          if (m[0] === '\r' && m.index === buffer.length - 1) { break; } // maybe the first half of a CRLF
          line(buffer.slice(start, m.index));
          start = re.lastIndex;
        }
        buffer = buffer.slice(start);
        return pump();
      });
    }
    return pump();
  }

  function dispatch(name, data) {
    if (name !== 'view') { return; }
    var view;
    try { view = JSON.parse(data); } catch (e) { return; }
    state.view = view;
    state.lastViewAt = Date.now();
    render(view);
  }

  function askForToken(status, body) {
    state.needToken = true;
    var detail = '';
    try { detail = JSON.parse(body).detail || ''; } catch (e) { detail = body; }
    $('token-panel').hidden = false;
    $('token-why').textContent = status === 401
      ? 'This node has authentication on: paste a token with a read grant. ' + detail
      : 'The stream was refused (403): ' + detail;
    setConnection('auth', status === 401 ? 'token needed' : 'token refused');
    $('token').focus();
  }

  // --- rendering -----------------------------------------------------------------------------------------

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function num(v) { return v === null || v === undefined ? '–' : String(v); }

  function bytes(n) {
    if (n === null || n === undefined) { return '–'; }
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var u = 0;
    while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
    return (u === 0 ? n : n.toFixed(1)) + ' ' + units[u];
  }

  function ago(iso) {
    if (!iso) { return ''; }
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) { return s + ' s'; }
    if (s < 3600) { return Math.floor(s / 60) + ' min ' + (s % 60) + ' s'; }
    return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  }

  function lagCell(lag, scale) {
    var td = el('td', 'lag');
    if (lag === null || lag === undefined) { td.textContent = '–'; return td; }
    var bar = el('span', 'bar');
    var fill = el('span', 'fill' + (lag === 0 ? ' ok' : lag < 100 ? ' warn' : ' bad'));
    fill.style.width = (lag === 0 ? 0 : Math.max(4, Math.round(100 * lag / scale))) + '%';
    bar.appendChild(fill);
    td.appendChild(bar);
    td.appendChild(el('span', 'n', lag));
    return td;
  }

  function render(v) {
    $('observer').textContent = v.observer;
    $('updated').textContent = new Date(v.at).toLocaleTimeString();
    var err = $('error');
    err.hidden = !v.error;
    err.textContent = v.error ? 'This node could not gather the cluster: ' + v.error : '';

    var leader = $('leader');
    leader.textContent = v.leader || 'none (election under way?)';
    leader.dataset.leader = v.leader || '';
    leader.dataset.term = v.term === undefined || v.term === null ? '' : String(v.term);
    leader.className = 'big' + (v.leader ? ' has-leader' : ' no-leader');
    $('leader-since').textContent = v.leaderSince
      ? 'since ' + new Date(v.leaderSince).toLocaleTimeString() + ' (' + ago(v.leaderSince) + ')' : '';
    $('term').textContent = num(v.term);
    $('commit').textContent = num(v.leaderCommit) + ' / ' + num(v.leaderLastIndex);
    var members = v.members || [];
    var up = members.filter(function (m) { return m.reachable; }).length;
    $('member-count').textContent = up + ' of ' + members.length + ' up';
    $('config-pending').textContent = v.configChangePending ? 'a configuration change is in flight' : '';

    var scale = 1;
    members.forEach(function (m) { scale = Math.max(scale, m.replicationLag || 0, m.applyLag || 0); });
    var tbody = document.querySelector('#members tbody');
    tbody.textContent = '';
    members.forEach(function (m) {
      var tr = el('tr', m.id === v.leader ? 'leader-row' : '');
      tr.dataset.member = m.id;
      tr.dataset.role = m.role;
      var id = el('td', 'id');
      id.appendChild(el('strong', null, m.id));
      if (m.membership === 'learner') { id.appendChild(el('span', 'tag', 'learner')); }
      if (m.id === v.observer) { id.appendChild(el('span', 'tag', 'this node')); }
      tr.appendChild(id);
      var role = el('td');
      role.appendChild(el('span', 'role role-' + String(m.role).replace(/[^a-z_]/g, ''), m.role));
      tr.appendChild(role);
      ['term', 'commitIndex', 'lastApplied', 'firstIndex', 'lastIndex', 'matchIndex'].forEach(function (f) {
        tr.appendChild(el('td', 'n', num(m[f])));
      });
      tr.appendChild(lagCell(m.replicationLag, scale));
      tr.appendChild(lagCell(m.applyLag, scale));
      var snap = m.snapshot;
      tr.appendChild(el('td', 'snap', !m.reachable ? '–' : snap
        ? (snap.index ? '#' + snap.index + ' t' + snap.term + ' ' + bytes(snap.sizeBytes) : 'none')
          + (snap.inProgress ? ' · taking one' : '') + (snap.receivedFromLeader ? ' · ' + snap.receivedFromLeader + ' received' : '')
        : '–'));
      tr.appendChild(el('td', 'n', m.reachable ? bytes(m.logBytes) + ' / ' + bytes(m.kvBytes) : '–'));
      var url = el('td', 'url', m.url);
      if (!m.reachable && m.error) { url.appendChild(el('div', 'why', m.error)); }
      tr.appendChild(url);
      tbody.appendChild(tr);
    });

    renderTransfer(v, members);
    renderEvents(members);
  }

  function renderTransfer(v, members) {
    var panel = $('transfer-panel');
    var admin = v.viewer && v.viewer.admin;
    panel.hidden = !admin;
    if (!admin) { return; }
    var select = $('transfer-to');
    var chosen = select.value;
    var wanted = members.filter(function (m) { return m.id !== v.leader && m.membership === 'voter'; })
      .map(function (m) { return m.id; });
    var have = Array.prototype.slice.call(select.options, 1).map(function (o) { return o.value; });
    if (wanted.join(',') !== have.join(',')) {
      while (select.options.length > 1) { select.remove(1); }
      wanted.forEach(function (id) { var o = el('option', null, id); o.value = id; select.appendChild(o); });
      select.value = wanted.indexOf(chosen) >= 0 ? chosen : '';
    }
    $('transfer').disabled = !v.leader || state.transferring;
  }

  function renderEvents(members) {
    var box = $('events');
    box.textContent = '';
    members.forEach(function (m) {
      var col = el('div', 'member-events');
      col.dataset.member = m.id;
      col.appendChild(el('h3', null, m.id));
      var lines = m.events || [];
      var pre = el('pre', lines.length && m.eventsError ? 'stale' : '');
      if (lines.length && m.eventsError) {
        col.appendChild(el('div', 'why', m.eventsError));
      }
      if (!lines.length) {
        pre.appendChild(el('span', 'dim', m.eventsError || (m.reachable ? 'no events yet' : 'unreachable')));
      }
      lines.slice().reverse().forEach(function (l) { // newest first
        var cls = /became leader|leader is now/.test(l) ? 'ev-leader'
          : /election started|pre-vote|lost contact|stepped down/.test(l) ? 'ev-election'
            : /refused|disk full|cannot/.test(l) ? 'ev-bad' : '';
        pre.appendChild(el('div', cls, l));
      });
      col.appendChild(pre);
      box.appendChild(col);
    });
  }

  // --- leadership transfer (admins) ----------------------------------------------------------------------

  function transfer(ev) {
    ev.preventDefault();
    var to = $('transfer-to').value;
    var out = $('transfer-result');
    state.transferring = true;
    $('transfer').disabled = true;
    out.hidden = false;
    out.className = 'result';
    out.textContent = 'asking ' + (to || 'the most up-to-date follower') + ' to take over…';
    // Followers pass it on to the leader (Raftkv-Forward: leader): a browser cannot follow a redirect to another
    // member's origin with a token.
    fetch('/v1/leader/transfer' + (to ? '?to=' + encodeURIComponent(to) : ''),
      { method: 'POST', headers: headers({ 'Raftkv-Forward': 'leader' }), cache: 'no-store' })
      .then(function (r) {
        return r.text().then(function (body) {
          var shown = body;
          try { shown = JSON.stringify(JSON.parse(body), null, 2); } catch (e) { /* not JSON: as it is */ }
          out.className = 'result ' + (r.ok ? 'ok' : 'bad');
          out.textContent = r.status + ' ' + r.statusText + '\n' + shown;
        });
      })
      .catch(function (e) { out.className = 'result bad'; out.textContent = 'request failed: ' + e; })
      .then(function () { state.transferring = false; $('transfer').disabled = false; });
  }

  // --- wiring --------------------------------------------------------------------------------------------

  $('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    try { sessionStorage.setItem(TOKEN_KEY, $('token').value.trim()); } catch (e) { /* private mode */ }
    $('token').value = '';
    state.retryMs = 500;
    connect();
  });
  $('token-forget').addEventListener('click', function () {
    try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* ignore */ }
    connect();
  });
  $('token-change').addEventListener('click', function () {
    $('token-panel').hidden = false;
    $('token-why').textContent = 'A token is in use for this tab; paste another one, or forget it.';
    $('token').focus();
  });
  $('transfer-form').addEventListener('submit', transfer);
  setInterval(function () {
    if (state.view && state.view.leaderSince) {
      $('leader-since').textContent = 'since ' + new Date(state.view.leaderSince).toLocaleTimeString()
        + ' (' + ago(state.view.leaderSince) + ')';
    }
    var quiet = state.lastViewAt ? Date.now() - state.lastViewAt : 0;
    if (quiet > 3 * STALE_MS && !state.needToken && $('connection').dataset.state === 'stale') {
      state.lastViewAt = Date.now();
      connect(); // the connection looks open but nothing comes: start another
    } else if (quiet > STALE_MS && $('connection').dataset.state === 'live') {
      setConnection('stale', 'no update for ' + Math.round((Date.now() - state.lastViewAt) / 1000) + ' s');
    } else if (state.lastViewAt && Date.now() - state.lastViewAt <= STALE_MS && $('connection').dataset.state === 'stale') {
      setConnection('live', 'live');
    }
  }, 1000);
  connect();
}());
