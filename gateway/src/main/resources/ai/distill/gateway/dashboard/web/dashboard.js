// Distill's operator page. Polls the gateway's JSON APIs, keeps the last minutes of metric
// snapshots in memory and redraws. No framework; every value from the server is written with
// textContent (never parsed as HTML). Rates and quantiles come from differences between two
// snapshots, the way PromQL's rate() and histogram_quantile() work.
'use strict';
(function () {
  const POLL_MS = 2000;
  const SLOW_EVERY = 3; // models, jobs and version every third poll
  const HISTORY = 150; // snapshots kept: 5 minutes at 2 s
  const WINDOW = 5; // snapshots per rate window (10 s)
  const DRIFT_THRESHOLD = 0.2;
  const ERROR_RATIO = 0.01;
  const TOKEN_KEY = 'distill.admin-token';

  const state = {
    polls: [], // {ts, families}
    costs: [], // {ts, byModel: {model: seconds}}
    experiments: [],
    models: null,
    jobs: null,
    jobsStatus: 'no-token',
    version: '',
    failures: 0,
    tick: 0,
    lastOk: 0,
    charts: {},
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'class') e.className = v;
      else if (k === 'style') e.setAttribute('style', v);
      else e.setAttribute(k, String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  // ---- formatting
  const pct = (x, d = 2) => (x === null || x === undefined || !isFinite(x) ? '–' : (100 * x).toFixed(d) + '%');
  const ms = (s) => (s === null || s === undefined || !isFinite(s) ? '–' : (1000 * s).toFixed(2));
  const num = (x, d = 1) => (x === null || x === undefined || !isFinite(x) ? '–' : Number(x).toFixed(d));
  const bytes = (b) => (b >= 1 << 20 ? (b / (1 << 20)).toFixed(1) + ' MiB' : (b / 1024).toFixed(1) + ' KiB');
  const time = (t) => new Date(t).toLocaleTimeString();

  // ---- admin token (for /admin/v1/jobs): from #token=... once, then this tab's session storage
  (function takeTokenFromFragment() {
    const m = location.hash.match(/token=([^&]+)/);
    if (m) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
  })();
  const token = () => sessionStorage.getItem(TOKEN_KEY);

  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    state.tick = 0;
  });

  async function fetchJson(url, headers) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), 5000);
    try {
      const r = await fetch(url, { headers: headers || {}, signal: ctl.signal, cache: 'no-store' });
      if (!r.ok) {
        const err = new Error(url + ': HTTP ' + r.status);
        err.status = r.status;
        throw err;
      }
      return await r.json();
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- metric snapshots (series.js); rates and quantiles over this page's polls
  const { points, total } = DistillSeries;
  const rate = (family, filter, at, back) => DistillSeries.rate(state.polls, family, filter, at, back || WINDOW);
  const quantile = (q, family, filter, at, back) =>
    DistillSeries.quantile(state.polls, q, family, filter, at, back || WINDOW);

  function servedModels() {
    const last = state.polls[state.polls.length - 1];
    const names = new Set();
    for (const p of points(last, 'distill_requests_total')) if (p.labels.model !== '_unknown') names.add(p.labels.model);
    for (const e of state.experiments) for (const v of e.variants) names.add(v.model);
    return [...names].sort();
  }

  // ---- polling
  async function poll() {
    const slow = state.tick % SLOW_EVERY === 0;
    state.tick++;
    const jobs = () => {
      const t = token();
      return t ? fetchJson('/admin/v1/jobs', { Authorization: 'Bearer ' + t }) : Promise.reject({ status: 'no-token' });
    };
    const [metrics, experiments, models, jobList, server] = await Promise.allSettled([
      fetchJson('/dashboard/api/metrics'),
      fetchJson('/v1/experiments'),
      slow ? fetchJson('/v1/models') : Promise.resolve(undefined),
      slow ? jobs() : Promise.resolve(undefined),
      slow ? fetchJson('/v2') : Promise.resolve(undefined),
    ]);
    const ok = metrics.status === 'fulfilled' && experiments.status === 'fulfilled';
    if (ok) {
      state.failures = 0;
      state.lastOk = Date.now();
      state.polls.push(metrics.value);
      if (state.polls.length > HISTORY) state.polls.shift();
      state.experiments = experiments.value.experiments || [];
      const byModel = {};
      for (const e of state.experiments) for (const v of e.variants) byModel[v.model] = v.model_cost_p99_seconds;
      state.costs.push({ ts: metrics.value.ts, byModel });
      if (state.costs.length > HISTORY) state.costs.shift();
    } else {
      state.failures++;
    }
    if (slow) {
      if (models.status === 'fulfilled') state.models = models.value.models;
      if (server.status === 'fulfilled') state.version = server.value.version;
      if (jobList.status === 'fulfilled') {
        state.jobs = jobList.value.jobs || [];
        state.jobsStatus = 'ok';
      } else if (ok || jobList.reason.status === 'no-token') {
        const s = jobList.reason.status;
        state.jobsStatus = s === 'no-token' ? 'no-token' : s === 401 || s === 403 ? 'bad-token' : s === 404 ? 'no-jobs-api' : 'error';
      }
    }
    try {
      render(ok);
    } catch (e) {
      console.error(e);
    }
    setTimeout(poll, ok ? POLL_MS : Math.min(10000, POLL_MS * 2 ** Math.min(state.failures, 3)));
  }

  // ---- rendering
  function render(ok) {
    const conn = $('conn');
    if (ok) {
      conn.className = 'pill pill-ok';
      conn.textContent = 'live';
      $('updated').textContent = 'updated ' + time(state.lastOk);
    } else {
      conn.className = 'pill pill-bad';
      conn.textContent = state.lastOk ? 'gateway unreachable — retrying' : 'connecting…';
      $('updated').textContent = state.lastOk ? 'showing data from ' + time(state.lastOk) : '';
    }
    $('version').textContent = state.version ? 'distill ' + state.version : '';
    document.body.dataset.ready = state.polls.length >= 2 && state.models ? 'true' : 'false';
    renderGlance(ok);
    renderExperiments();
    renderCharts();
    renderModels();
    renderJobs();
    renderDrift();
  }

  function teacherOf(e) {
    return e.variants.find((v) => v.role === 'teacher') || e.variants[0];
  }

  function renderGlance(ok) {
    const box = $('verdicts');
    box.replaceChildren();
    if (!state.experiments.length) box.append(el('p', { class: 'muted' }, 'No experiment is running.'));
    for (const e of state.experiments) {
      const t = teacherOf(e);
      const leader = e.variants.filter((v) => v.impressions > 0).sort((a, b) => b.ctr - a.ctr)[0];
      const line = el('div', { class: 'verdict', 'data-testid': 'verdict/' + e.name });
      line.append(el('b', {}, e.name + ': '));
      if (e.srm && e.srm.alarm) {
        line.classList.add('bad');
        line.append('sample ratio mismatch — the traffic split is off, decisions are frozen until someone checks the data.');
      } else if (leader) {
        line.append('leading: ', el('b', { 'data-testid': 'leader/' + e.name }, leader.model), ' (CTR ' + pct(leader.ctr, 3) + '). ');
        for (const s of e.variants.filter((v) => v !== t)) {
          const n = s.numbers || {};
          const verdict = n.verdict || 'pending';
          const cls = verdict === 'non_inferior' ? 'good' : verdict === 'inferior' ? 'bad' : 'warn';
          const says =
            verdict === 'non_inferior'
              ? 'is non-inferior to'
              : verdict === 'inferior'
                ? 'is worse than'
                : 'is not yet distinguishable from';
          line.append(
            el('span', { class: cls, 'data-testid': 'ni/' + e.name + '/' + s.model }, s.model + ' ' + says + ' ' + t.model),
            ' (CTR ' + pct(s.ctr, 3) + ' vs ' + pct(t.ctr, 3) + '; decision: ',
            el('b', {}, s.decision || '–'),
            '). '
          );
        }
      } else {
        line.classList.add('muted');
        line.append('waiting for traffic.');
      }
      box.append(line);
    }
    const problems = findProblems(ok);
    const list = $('problems');
    list.replaceChildren();
    if (!problems.length) {
      list.append(el('li', { class: 'ok', 'data-testid': 'all-clear' }, 'Nothing wrong: no SRM alarm, guardrails pass, no rollbacks, no load failures, no shedding, no capture drops, no drift above ' + DRIFT_THRESHOLD + '.'));
    }
    for (const p of problems) list.append(el('li', { class: 'bad', 'data-testid': 'problem' }, p));
  }

  function findProblems(ok) {
    const out = [];
    if (!ok) out.push('The gateway does not answer (restarting?). The page retries by itself.');
    const tenMinutesAgo = Date.now() - 600000;
    for (const e of state.experiments) {
      if (e.srm && e.srm.alarm) out.push(e.name + ': SRM alarm (sequential p = ' + num(e.srm.sequential_p_value, 5) + ').');
      for (const v of e.variants) {
        const g = v.guardrails || {};
        if (g.latency && g.latency.breach) out.push(e.name + '/' + v.model + ': latency guardrail breached (' + (g.latency.reason || '') + ').');
        if (g.errors && g.errors.verdict === 'rollback') out.push(e.name + '/' + v.model + ': error guardrail breached.');
      }
      for (const h of e.history || []) {
        if ((h.action === 'rollback' || h.action === 'rolled_back') && h.ts >= tenMinutesAgo) {
          out.push(e.name + ': ' + h.variant + ' was rolled back at ' + time(h.ts) + ' (' + (h.reason || '') + ').');
        }
      }
    }
    for (const m of servedModels()) {
      const all = rate('distill_requests_total', { model: m });
      const shed = rate('distill_requests_total', { model: m, outcome: 'queue_full' });
      const errors = rate('distill_requests_total', { model: m, outcome: 'error' });
      if (shed > 0) out.push(m + ': shedding load, ' + num(shed, 1) + ' requests/s answered 429.');
      if (all > 0 && errors / all > ERROR_RATIO) out.push(m + ': ' + pct(errors / all, 1) + ' of requests fail.');
    }
    if (state.polls.length > 1) {
      const first = state.polls[0];
      const last = state.polls[state.polls.length - 1];
      const grew = (family) => total(last, family, {}) > total(first, family, {});
      if (grew('distill_model_load_failures_total')) out.push('A model version failed to load in the last minutes (see models).');
      if (grew('distill_capture_dropped_total')) out.push('Traffic capture dropped rows in the last minutes.');
    }
    for (const p of points(state.polls[state.polls.length - 1], 'distill_drift_psi')) {
      if (p.value > DRIFT_THRESHOLD) out.push(p.labels.model + ': input drift on ' + p.labels.column + ' (PSI ' + num(p.value, 3) + ').');
    }
    return out;
  }

  function cell(testid, value, text, cls) {
    return el('td', { 'data-testid': testid, 'data-value': value, class: cls }, text === undefined ? value : text);
  }

  // The interval on a 0..hi scale (clamped: an interval may reach below zero early on).
  function ciBar(v, hi) {
    const span = Math.max(hi, 1e-9);
    const at = (x) => Math.min(100, Math.max(0, (100 * x) / span));
    const lo = at(v.ctr_ci[0]);
    const bar = el('div', { class: 'ci', title: pct(v.ctr_ci[0], 3) + ' … ' + pct(v.ctr_ci[1], 3) });
    bar.append(
      el('span', { style: 'left:' + lo + '%;width:' + (at(v.ctr_ci[1]) - lo) + '%' }),
      el('i', { style: 'left:' + at(v.ctr) + '%' })
    );
    return bar;
  }

  function renderExperiments() {
    const box = $('experiments');
    if (!state.experiments.length) return;
    box.replaceChildren();
    for (const e of state.experiments) {
      const div = el('div', { class: 'exp', 'data-testid': 'experiment/' + e.name });
      div.append(
        el('h3', {}, e.name + ' ', el('span', { class: 'muted' }, e.status + (e.frozen ? ' (frozen: ' + e.frozen + ')' : '') + ' · teacher ' + e.teacher))
      );
      const hi = Math.max(...e.variants.map((v) => (v.ctr_ci && isFinite(v.ctr_ci[1]) ? v.ctr_ci[1] : 0)), 1e-6);
      const table = el('table');
      table.append(
        el('thead', {}, el('tr', {}, ...['variant', 'version', 'role', 'split', 'users', 'impressions', 'clicks', 'CTR', 'CTR 95% interval', '', 'model cost p99 ms', 'end-to-end p99 ms', 'errors', 'guardrails', 'decision'].map((h) => el('th', {}, h))))
      );
      const body = el('tbody');
      for (const v of e.variants) {
        const id = e.name + '/' + v.model + '/';
        const g = v.guardrails || {};
        const guard = [(g.latency ? 'latency ' + g.latency.verdict : 'latency pending'), (g.errors && g.errors.verdict ? 'errors ' + g.errors.verdict : 'errors pending')].join(', ');
        const ci = v.ctr_ci && v.ctr_ci[0] !== null ? pct(v.ctr_ci[0], 3) + ' … ' + pct(v.ctr_ci[1], 3) : '–';
        body.append(
          el(
            'tr',
            {},
            el('td', {}, el('b', {}, v.model)),
            cell(id + 'version', v.version),
            cell(id + 'role', v.role),
            cell(id + 'weight', v.weight, v.weight + '%'),
            cell(id + 'exposures', v.exposures),
            cell(id + 'impressions', v.impressions),
            cell(id + 'clicks', v.clicks),
            cell(id + 'ctr', v.ctr, pct(v.ctr, 3)),
            cell(id + 'ctr_ci', v.ctr_ci ? v.ctr_ci.join(',') : '', ci),
            el('td', {}, v.ctr_ci && v.ctr_ci[0] !== null ? ciBar(v, hi) : ''),
            cell(id + 'model_cost_p99', v.model_cost_p99_seconds, ms(v.model_cost_p99_seconds)),
            cell(id + 'p99', v.p99_seconds, ms(v.p99_seconds)),
            cell(id + 'error_rate', v.error_rate, pct(v.error_rate, 2)),
            el('td', {}, guard),
            cell(id + 'decision', v.decision, v.decision, v.decision === 'rollback' || v.decision === 'rolled_back' ? 'bad' : v.decision === 'promote' || v.decision === 'promoted' ? 'good' : '')
          )
        );
      }
      table.append(body);
      div.append(table);
      const srm = e.srm || {};
      div.append(
        el(
          'p',
          { 'data-testid': 'srm/' + e.name, 'data-alarm': String(!!srm.alarm), class: srm.alarm ? 'bad' : '' },
          'Sample ratio: ' + (srm.alarm ? 'ALARM' : 'ok') + ' — sequential p = ' + num(srm.sequential_p_value, 4) + ' (alarm below ' + (srm.threshold ?? 0.001) + '), chi-square p = ' + num(srm.p_value, 4) + ' (shown only).'
        )
      );
      const history = (e.history || []).slice(-8).reverse();
      if (history.length) {
        const ul = el('ul', { class: 'history', 'data-testid': 'history/' + e.name });
        for (const h of history) ul.append(el('li', {}, time(h.ts) + ' ' + h.action + ' ' + (h.variant || '') + (h.automatic ? ' (auto)' : ' (manual)') + ': ' + (h.reason || '')));
        div.append(el('div', { class: 'muted' }, 'Decision history (newest first):'), ul);
      }
      box.append(div);
    }
  }

  const COLORS = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df', '#bf3989'];

  function chart(id, title, seriesNames, dashedFrom, yLabel) {
    const key = id + ':' + seriesNames.join(',');
    const existing = state.charts[id];
    if (existing && existing.key === key) return existing.plot;
    if (existing) existing.plot.destroy();
    const host = $(id);
    host.replaceChildren();
    if (typeof uPlot === 'undefined') return null;
    const series = [{}];
    seriesNames.forEach((n, i) => {
      const dashed = dashedFrom !== undefined && i >= dashedFrom;
      const color = COLORS[(dashed ? i - dashedFrom : i) % COLORS.length];
      series.push({ label: n, stroke: color, width: 2, dash: dashed ? [6, 4] : undefined, spanGaps: true });
    });
    const plot = new uPlot(
      { width: Math.max(host.clientWidth, 300), height: 220, series, axes: [{}, { label: yLabel }], scales: { x: { time: true } } },
      [[], ...seriesNames.map(() => [])],
      host
    );
    state.charts[id] = { key, plot };
    return plot;
  }

  function renderCharts() {
    const models = servedModels();
    const polls = state.polls;
    const xs = polls.map((p) => p.ts / 1000);
    const throughput = chart('chart-throughput', 'throughput', models, undefined, 'req/s');
    if (throughput) {
      throughput.setData([xs, ...models.map((m) => polls.map((_, i) => rate('distill_requests_total', { model: m }, i, 1)))]);
    }
    const names = [...models.map((m) => m + ' end to end'), ...models.map((m) => m + ' model cost')];
    const latency = chart('chart-latency', 'latency', names, models.length, 'ms');
    if (latency) {
      const e2e = models.map((m) => polls.map((_, i) => {
        const q = quantile(0.99, 'distill_request_duration_seconds', { model: m }, i, WINDOW);
        return q === null ? null : 1000 * q;
      }));
      const cost = models.map((m) => state.costs.map((c) => (c.byModel[m] === undefined || c.byModel[m] === null ? null : 1000 * c.byModel[m])));
      latency.setData([xs, ...e2e, ...cost]);
    }
  }

  function auc(metrics) {
    if (!metrics) return null;
    for (const k of ['auc', 'auc_after', 'eval_auc']) if (typeof metrics[k] === 'number') return metrics[k];
    for (const v of Object.values(metrics)) if (v && typeof v === 'object' && typeof v.auc === 'number') return v.auc;
    return null;
  }

  function renderModels() {
    if (!state.models) return;
    const body = $('models').querySelector('tbody');
    body.replaceChildren();
    const children = new Map();
    const all = new Map();
    for (const m of state.models) {
      for (const v of m.versions) {
        const id = m.name + ':' + v.version;
        all.set(id, { name: m.name, ...v });
        const p = v.parent ? (v.parent.includes(':') ? v.parent : v.parent + ':1') : null;
        if (p) {
          if (!children.has(p)) children.set(p, []);
          children.get(p).push(id);
        }
        const r = rate('distill_requests_total', { model: m.name, version: v.version });
        const q = quantile(0.99, 'distill_request_duration_seconds', { model: m.name, version: v.version });
        const cls = v.state === 'READY' ? 'good' : v.state === 'UNAVAILABLE' ? 'muted' : 'bad';
        body.append(
          el(
            'tr',
            {},
            el('td', {}, el('b', {}, m.name)),
            cell('model/' + id + '/version', v.version),
            cell('model/' + id + '/state', v.state, v.state + (v.reason ? ' (' + v.reason + ')' : ''), cls),
            cell('model/' + id + '/role', v.role),
            cell('model/' + id + '/parent', v.parent || '', v.parent || '—'),
            cell('model/' + id + '/size', v.size, bytes(v.size)),
            cell('model/' + id + '/auc', auc(v.metrics), num(auc(v.metrics), 4)),
            cell('model/' + id + '/rate', r, num(r, 1)),
            cell('model/' + id + '/p99', q, ms(q))
          )
        );
      }
    }
    // Lineage: one chain per root (a version without a stored parent), e.g. teacher → distilled → INT8.
    const box = $('lineage');
    box.replaceChildren();
    const roots = [...all.keys()].filter((id) => {
      const v = all.get(id);
      const p = v.parent ? (v.parent.includes(':') ? v.parent : v.parent + ':1') : null;
      return !p || !all.has(p);
    });
    const walk = (id, depth, into) => {
      const v = all.get(id);
      const node = el('b', {}, id);
      into.append(depth ? ' → ' : '', node, el('span', { class: 'muted' }, ' ' + v.role + ', ' + bytes(v.size) + (auc(v.metrics) !== null ? ', AUC ' + num(auc(v.metrics), 4) : '')));
      const kids = children.get(id) || [];
      if (kids.length) walk(kids[0], depth + 1, into);
      return kids.slice(1);
    };
    for (const r of roots) {
      if (!(children.get(r) || []).length && all.get(r).role !== 'teacher') continue;
      const line = el('div', { class: 'lineage-chain', 'data-testid': 'lineage/' + r });
      const extra = walk(r, 0, line);
      box.append(line);
      for (const x of extra) {
        const more = el('div', { class: 'lineage-chain' }, '   ↳ ');
        walk(x, 1, more);
        box.append(more);
      }
    }
  }

  function renderJobs() {
    const box = $('jobs');
    const form = $('token-form');
    form.hidden = !(state.jobsStatus === 'no-token' || state.jobsStatus === 'bad-token');
    box.replaceChildren();
    if (state.jobsStatus === 'no-token') return box.append(el('p', { class: 'muted' }, 'Enter the admin token to see jobs.'));
    if (state.jobsStatus === 'bad-token') return box.append(el('p', { class: 'bad' }, 'The admin token was refused.'));
    if (state.jobsStatus === 'no-jobs-api') return box.append(el('p', { class: 'muted' }, 'This gateway runs no optimizer jobs.'));
    if (!state.jobs) return;
    if (!state.jobs.length) return box.append(el('p', { class: 'muted', 'data-testid': 'no-jobs' }, 'No optimizer job yet.'));
    const table = el('table', { 'data-testid': 'jobs-table' });
    table.append(el('thead', {}, el('tr', {}, ...['job', 'action', 'source', 'state', 'stage', 'progress', 'result', 'finished'].map((h) => el('th', {}, h)))));
    const body = el('tbody');
    for (const j of state.jobs.slice(-20).reverse()) {
      const cls = j.state === 'failed' ? 'bad' : j.state === 'succeeded' ? 'good' : '';
      body.append(
        el(
          'tr',
          {},
          cell('job/' + j.id + '/id', j.id),
          el('td', {}, j.action),
          el('td', {}, j.source),
          cell('job/' + j.id + '/state', j.state, j.state, cls),
          el('td', {}, j.stage || ''),
          el('td', {}, pct(j.progress, 0)),
          el('td', {}, j.result ? j.result.model + ':' + j.result.version : j.error || ''),
          el('td', {}, j.finished || '')
        )
      );
    }
    table.append(body);
    box.append(table);
  }

  function renderDrift() {
    const psi = points(state.polls[state.polls.length - 1], 'distill_drift_psi');
    if (!psi.length) return;
    const box = $('drift');
    box.replaceChildren();
    const table = el('table');
    table.append(el('thead', {}, el('tr', {}, el('th', {}, 'model'), el('th', {}, 'column'), el('th', {}, 'PSI'), el('th', {}, ''))));
    const body = el('tbody');
    for (const p of [...psi].sort((a, b) => b.value - a.value).slice(0, 15)) {
      const bad = p.value > DRIFT_THRESHOLD;
      body.append(
        el(
          'tr',
          {},
          el('td', {}, p.labels.model),
          el('td', {}, p.labels.column),
          cell('drift/' + p.labels.model + '/' + p.labels.column, p.value, num(p.value, 3), bad ? 'bad' : ''),
          el('td', {}, el('span', { class: 'bar' + (bad ? ' bad' : ''), style: 'width:' + Math.min(200, 400 * p.value) + 'px' }))
        )
      );
    }
    table.append(body);
    box.append(table);
  }

  poll();
})();
