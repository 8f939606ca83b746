// Metric snapshots of /dashboard/api/metrics ({ts, families}) and what the page derives from
// them: sums over matching series, per-second rates and histogram quantiles between two
// snapshots, the way PromQL's rate() and histogram_quantile() work.
'use strict';
const DistillSeries = (function () {
  function points(poll, family) {
    return (poll && poll.families[family]) || [];
  }

  function matches(labels, filter) {
    for (const [k, v] of Object.entries(filter)) if (labels[k] !== v) return false;
    return true;
  }

  function total(poll, family, filter) {
    let s = 0;
    for (const p of points(poll, family)) if (matches(p.labels, filter)) s += p.value || 0;
    return s;
  }

  // Per-second increase of a counter between the snapshot `back` polls ago and the newest; a
  // counter that went down (the gateway restarted) counts from zero, as Prometheus does.
  function rate(polls, family, filter, at, back) {
    at = at === undefined ? polls.length - 1 : at;
    const from = Math.max(0, at - back);
    if (at <= from) return null;
    const a = total(polls[from], family, filter);
    const b = total(polls[at], family, filter);
    const dt = (polls[at].ts - polls[from].ts) / 1000;
    if (dt <= 0) return null;
    return (b >= a ? b - a : b) / dt;
  }

  // Buckets of a histogram summed over the series matching `filter`: [[le, cumulative]...].
  function buckets(poll, family, filter) {
    const sum = new Map();
    for (const p of points(poll, family)) {
      if (!matches(p.labels, filter)) continue;
      for (const [le, c] of p.buckets) {
        const k = le === '+Inf' ? Infinity : le;
        sum.set(k, (sum.get(k) || 0) + c);
      }
    }
    return [...sum.entries()].sort((x, y) => x[0] - y[0]);
  }

  // The q-quantile of the observations between two snapshots, interpolated linearly inside the
  // bucket that holds it (histogram_quantile's rule); null without observations.
  function quantile(polls, q, family, filter, at, back) {
    at = at === undefined ? polls.length - 1 : at;
    const from = Math.max(0, at - back);
    if (at <= from) return null;
    const a = new Map(buckets(polls[from], family, filter));
    const b = buckets(polls[at], family, filter);
    const delta = b.map(([le, c]) => [le, Math.max(0, c - (a.get(le) || 0))]);
    if (!delta.length) return null;
    const n = delta[delta.length - 1][1];
    if (n <= 0) return null;
    const rank = q * n;
    let prevLe = 0;
    let prevC = 0;
    for (const [le, c] of delta) {
      if (c >= rank) {
        if (le === Infinity) return prevLe;
        return prevLe + ((le - prevLe) * (rank - prevC)) / Math.max(c - prevC, 1e-12);
      }
      prevLe = le;
      prevC = c;
    }
    return prevLe;
  }

  return { points, total, rate, quantile };
})();
