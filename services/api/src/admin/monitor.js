// The monitor page's script, served from /admin/monitor.js: the Content-Security-Policy allows
// scripts from this origin only, not inline ones. uPlot (window.uPlot) is served next to it.
// Polls the figures every second and keeps what it saw for the last few minutes: purchases/s in the
// table is the change in decided purchases over the last 10 seconds; the charts draw, for the event
// chosen in the table, purchases/s by outcome and the queue depth and waiting list over time.
// Everything is built with textContent: event names are never HTML.
const POLL_MS = 1000;
const WINDOW_MS = 10_000;
const CHART_MS = 5 * 60_000;
/** A charted rate is the change over this many polls: steadier than poll to poll. */
const RATE_SPAN = 3;
const CHART_HEIGHT = 220;
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];

const OUTCOMES = [
  { key: 'confirmed', label: 'confirmed', stroke: '#2e8b57' },
  { key: 'held', label: 'held', stroke: '#1b7fa6' },
  { key: 'waitlisted', label: 'waitlisted', stroke: '#d08c00' },
  { key: 'rejected', label: 'rejected', stroke: '#b3261e' },
  { key: 'cancelled', label: 'cancelled', stroke: '#6b4fbb' },
  { key: 'expired', label: 'expired', stroke: '#7a7a7a' },
];
const LEVELS = [
  { key: 'queueDepth', label: 'queue depth', stroke: '#2457c5' },
  { key: 'waitlisted', label: 'waiting list', stroke: '#d08c00' },
];

const history = new Map(); // eventId -> [{ t, name, decided, outcomes, queueDepth, waitlisted }]
let selected; // the charted event's id
let charts; // { rate, queue }: uPlot instances, made once the first figures arrive

function cell(text, field) {
  const td = document.createElement('td');
  td.textContent = text;
  if (field) td.dataset.field = field;
  return td;
}

function record(event, now) {
  const samples = (history.get(event.eventId) ?? []).filter((s) => now - s.t <= CHART_MS);
  samples.push({
    t: now,
    name: event.name,
    decided: event.decided,
    outcomes: event.outcomes,
    queueDepth: event.queueDepth,
    waitlisted: event.waitlisted,
  });
  history.set(event.eventId, samples);
  return samples;
}

function ratePerSecond(samples, now) {
  const first = samples.find((s) => now - s.t <= WINDOW_MS) ?? samples[0];
  const last = samples[samples.length - 1];
  const seconds = (last.t - first.t) / 1000;
  return seconds > 0 ? Math.max(0, (last.decided - first.decided) / seconds) : 0;
}

function money(cents, currency) {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);
}

/**
 * uPlot's columns: times in seconds, then one array per series. A rate is the net change of the
 * purchases in that state (a promotion moves one from waitlisted to confirmed), never below zero.
 */
function chartColumns(samples) {
  const times = samples.map((s) => s.t / 1000);
  const rates = OUTCOMES.map(({ key }) =>
    samples.map((s, index) => {
      if (index === 0) return null;
      const from = samples[Math.max(0, index - RATE_SPAN)];
      const seconds = (s.t - from.t) / 1000;
      return Math.max(0, (s.outcomes[key] - from.outcomes[key]) / seconds);
    }),
  );
  const levels = LEVELS.map(({ key }) => samples.map((s) => s[key]));
  return { rate: [times, ...rates], queue: [times, ...levels] };
}

function chartWidth(figure) {
  return Math.max(280, figure.clientWidth - 16);
}

/** `whole`: the series count things, so the axis steps by whole numbers. */
function makeChart(figure, title, series, columns, whole) {
  return new window.uPlot(
    {
      title,
      width: chartWidth(figure),
      height: CHART_HEIGHT,
      scales: {
        // At least half a minute wide, so that a fresh page does not stretch seconds over the axis.
        x: { time: true, range: (_u, min, max) => [Math.min(min, max - 30), max] },
        y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 0) * 1.1)] },
      },
      series: [
        {},
        ...series.map(({ label, stroke }) => ({
          label,
          stroke,
          width: 2,
          value: (_u, v) => (v == null ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(1)),
        })),
      ],
      axes: [{}, { size: 56, incrs: whole ? WHOLE_STEPS : undefined }],
    },
    columns,
    figure,
  );
}

/** What the charts hold, for people reading the page's DOM and for the browser test. */
function describeChart(figure, columns) {
  figure.dataset.eventId = selected;
  figure.dataset.samples = String(columns[0].length);
  figure.dataset.peaks = JSON.stringify(
    columns.slice(1).map((values) => Math.max(0, ...values.filter((v) => v != null))),
  );
}

function drawCharts() {
  const samples = history.get(selected);
  if (samples === undefined || typeof window.uPlot !== 'function') return;
  const section = document.getElementById('charts');
  section.hidden = false;
  document.getElementById('chart-event').textContent = samples[samples.length - 1].name;
  const columns = chartColumns(samples);
  const rateFigure = document.getElementById('rate-chart');
  const queueFigure = document.getElementById('queue-chart');
  if (charts === undefined) {
    charts = {
      rate: makeChart(rateFigure, 'Purchases/s by outcome', OUTCOMES, columns.rate, false),
      queue: makeChart(queueFigure, 'Queue depth and waiting list', LEVELS, columns.queue, true),
    };
  } else {
    charts.rate.setData(columns.rate);
    charts.queue.setData(columns.queue);
  }
  describeChart(rateFigure, columns.rate);
  describeChart(queueFigure, columns.queue);
}

function select(eventId) {
  selected = eventId;
  for (const row of document.querySelectorAll('tr[data-event-id]'))
    row.classList.toggle('selected', row.dataset.eventId === eventId);
  drawCharts();
}

/**
 * The sale state, with a countdown to the start while there is one, and what a cancellation has left
 * to do. Operators change a sale through the admin API (docs/running-a-sale.md).
 */
function saleText(event) {
  if (event.saleState === 'cancelled')
    return event.cancellationLeft > 0 ? `cancelled · ${event.cancellationLeft} left` : 'cancelled';
  if (event.startsInMs === null) return event.saleState.replace('_', ' ');
  const seconds = Math.ceil(event.startsInMs / 1000);
  const clock = `${Math.floor(seconds / 3600)}:${String(Math.floor(seconds / 60) % 60).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  return `${event.saleState} · starts in ${clock}`;
}

/** Paused, ended and cancelled sales stand out: nothing is being decided, or ever will be. */
function saleCell(event) {
  const td = cell(saleText(event), 'sale');
  td.className = `sale-${event.saleState}`;
  return td;
}

function render(overview) {
  const now = Date.parse(overview.at);
  const rows = overview.items.map((event) => {
    const samples = record(event, now);
    const tr = document.createElement('tr');
    tr.dataset.eventId = event.eventId;
    tr.tabIndex = 0;
    tr.title = 'Chart this event';
    tr.addEventListener('click', () => select(event.eventId));
    tr.addEventListener('keydown', (key) => {
      if (key.key === 'Enter') select(event.eventId);
    });
    const name = cell(event.name, 'name');
    const id = document.createElement('span');
    id.className = 'id';
    id.textContent = event.eventId;
    name.append(id);
    const sold = cell(`${event.soldTickets} / ${event.totalTickets}`);
    const soldCount = document.createElement('span');
    soldCount.hidden = true;
    soldCount.dataset.field = 'sold';
    soldCount.textContent = String(event.soldTickets);
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = `${(100 * event.soldTickets) / event.totalTickets}%`;
    bar.append(fill);
    sold.append(soldCount, bar);
    tr.append(
      name,
      sold,
      cell(String(event.heldTickets), 'held'),
      cell(String(event.availableTickets), 'available'),
      cell(String(event.waitlisted), 'waitlisted'),
      cell(String(event.holdsExpired), 'holdsExpired'),
      saleCell(event),
      cell(String(event.prequeueSize), 'prequeue'),
      cell(String(event.queueDepth), 'queueDepth'),
      cell(ratePerSecond(samples, now).toFixed(1), 'rate'),
      cell(money(event.revenueCents, event.currency), 'revenue'),
    );
    return tr;
  });
  const body = document.getElementById('events');
  if (rows.length === 0) return;
  body.replaceChildren(...rows);
  // The newest event is charted until someone picks another (or the picked one drops off the list).
  const listed = overview.items.some((event) => event.eventId === selected);
  select(listed ? selected : overview.items[0].eventId);
}

async function poll() {
  const status = document.getElementById('status');
  try {
    const response = await fetch('/admin/api/sales', { headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    render(await response.json());
    status.className = '';
    status.textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    status.className = 'error';
    status.textContent = `Not updated: ${error.message}`;
  } finally {
    setTimeout(poll, POLL_MS);
  }
}

window.addEventListener('resize', () => {
  if (charts === undefined) return;
  charts.rate.setSize({ width: chartWidth(document.getElementById('rate-chart')), height: CHART_HEIGHT });
  charts.queue.setSize({ width: chartWidth(document.getElementById('queue-chart')), height: CHART_HEIGHT });
});
poll();
