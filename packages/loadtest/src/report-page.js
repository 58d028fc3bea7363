// The load report's script, written into the report next to uPlot (window.uPlot) and the run's
// JSON (#run). Draws the run second by second and fills the tables; text goes in as textContent only.
const CHART_HEIGHT = 260;
const { result, generatedAt } = JSON.parse(document.getElementById('run').textContent);
const { timeline, options } = result;

const OUTCOMES = [
  { key: 'confirmed', stroke: '#2e8b57' },
  { key: 'held', stroke: '#1b7fa6' },
  { key: 'waitlisted', stroke: '#d08c00' },
  { key: 'rejected', stroke: '#b3261e' },
  { key: 'cancelled', stroke: '#6b4fbb' },
];

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function rows(table, entries) {
  table.replaceChildren(
    ...entries.map(([label, value]) => {
      const tr = element('tr');
      tr.append(element('td', label), element('td', String(value)));
      return tr;
    }),
  );
}

/** Per-second counts become rates: each interval's count over its length (the last may be shorter). */
function perSecond(pick) {
  return timeline.map((second, index) => {
    const length = second.at - (index === 0 ? 0 : timeline[index - 1].at);
    return length > 0 ? pick(second) / length : null;
  });
}

/** A percentile of an interval without samples is no point at all, not a zero. */
function latency(pick) {
  return timeline.map((second) => (second.latencyMs.count > 0 ? pick(second.latencyMs) : null));
}

function chart(id, title, unit, series, columns) {
  const figure = document.getElementById(id);
  const plot = new window.uPlot(
    {
      title,
      width: Math.max(320, figure.clientWidth - 16),
      height: CHART_HEIGHT,
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.1)] } },
      series: [
        { label: 's', value: (_u, v) => (v == null ? '–' : `${v.toFixed(1)} s`) },
        ...series.map(({ label, stroke, dash }) => ({
          label,
          stroke,
          width: 2,
          dash,
          value: (_u, v) => (v == null ? '–' : `${v.toFixed(1)} ${unit}`),
        })),
      ],
      axes: [{ label: 'seconds into the run' }, { label: unit, size: 60 }],
    },
    [timeline.map((second) => second.at), ...columns],
    figure,
  );
  // What the chart holds, for readers of the DOM and for the browser test.
  figure.dataset.points = String(timeline.length);
  figure.dataset.peaks = JSON.stringify(
    columns.map((values) => Math.max(0, ...values.filter((v) => v != null))),
  );
  return plot;
}

function summary() {
  const cards = [
    ['purchases/s', result.purchasesPerSecond],
    ['duration', `${result.durationSeconds} s`],
    ['accepted', result.accepted],
    ['errors', result.errors],
    ['submit → decided p50', `${result.latencyMs.p50} ms`],
    ['p99', `${result.latencyMs.p99} ms`],
    ['p99.9', `${result.latencyMs.p999} ms`],
    ['max', `${result.latencyMs.max} ms`],
    ['submit → 202 p99', `${result.submitLatencyMs.p99} ms`],
  ];
  document.getElementById('summary').replaceChildren(
    ...cards.map(([label, value]) => {
      const card = element('div', undefined, 'card');
      card.dataset.field = label;
      card.append(element('div', label, 'label'), element('div', String(value), 'value'));
      return card;
    }),
  );
}

function verdict() {
  const ok = result.audit.ok && result.errors === 0;
  const line = document.getElementById('verdict');
  line.className = ok ? 'ok' : 'failed';
  line.textContent = ok
    ? 'Passed: no errors, and the books audit clean.'
    : `Failed: ${result.errors} errors, ${result.audit.violations.length} audit violations.`;
  document.getElementById('target').textContent =
    `${options.url} · ${options.purchases} purchases over ${options.events} event(s) · ` +
    `${options.rate > 0 ? `open loop at ${options.rate}/s` : `closed loop, ${options.concurrency} buyers`} · ` +
    `generated ${new Date(generatedAt).toLocaleString()}`;
}

function tables() {
  rows(
    document.getElementById('outcomes'),
    OUTCOMES.map(({ key }) => [key, result[key]]),
  );
  const kinds = Object.entries(result.errorsByKind).sort((a, b) => b[1] - a[1]);
  rows(document.getElementById('errors'), kinds.length > 0 ? kinds : [['no errors', 0]]);
  document
    .getElementById('error-samples')
    .replaceChildren(...result.errorSamples.map((sample) => element('li', sample)));
  const audit = document.getElementById('audit');
  audit.textContent = result.audit.ok
    ? 'Books are exact: nothing oversold, confirmed = sold, revenue = sold × price, waiting list numbered 1..n, nothing left undecided.'
    : `${result.audit.violations.length} violations:`;
  audit.dataset.ok = String(result.audit.ok);
  document
    .getElementById('violations')
    .replaceChildren(...result.audit.violations.map((text) => element('li', text)));
  rows(
    document.getElementById('settings'),
    Object.entries(options).map(([key, value]) => [
      key,
      typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value ?? '–'),
    ]),
  );
}

verdict();
summary();
tables();
const charts = [
  chart(
    'rate-chart',
    'Rate',
    '/s',
    [
      { label: 'accepted', stroke: '#2457c5' },
      { label: 'decided', stroke: '#2e8b57' },
    ],
    [
      perSecond((second) => second.accepted),
      perSecond(
        (second) =>
          second.outcomes.confirmed +
          second.outcomes.held +
          second.outcomes.waitlisted +
          second.outcomes.rejected,
      ),
    ],
  ),
  chart(
    'latency-chart',
    'Submit → decided latency',
    'ms',
    [
      { label: 'p50', stroke: '#2e8b57' },
      { label: 'p99', stroke: '#d08c00' },
      { label: 'p99.9', stroke: '#b3261e' },
      { label: 'submit → 202 p99', stroke: '#2457c5', dash: [6, 4] },
    ],
    [
      latency((ms) => ms.p50),
      latency((ms) => ms.p99),
      latency((ms) => ms.p999),
      timeline.map((second) => (second.submitLatencyMs.count > 0 ? second.submitLatencyMs.p99 : null)),
    ],
  ),
  chart(
    'outcome-chart',
    'Outcomes',
    '/s',
    OUTCOMES.map(({ key, stroke }) => ({ label: key, stroke })),
    OUTCOMES.map(({ key }) => perSecond((second) => second.outcomes[key])),
  ),
  chart(
    'error-chart',
    'Errors',
    '/s',
    [{ label: 'errors', stroke: '#b3261e' }],
    [perSecond((second) => second.errors)],
  ),
];
window.addEventListener('resize', () => {
  for (const plot of charts)
    plot.setSize({ width: Math.max(320, plot.root.parentElement.clientWidth - 16), height: CHART_HEIGHT });
});
