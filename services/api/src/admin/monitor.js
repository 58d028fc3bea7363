// The monitor page's script, served from /admin/monitor.js: the Content-Security-Policy allows
// scripts from this origin only, not inline ones.
// Polls the figures every second; purchases/s is the change in decided purchases over the last
// 10 seconds of samples. Everything is built with textContent: event names are never HTML.
const POLL_MS = 1000;
const WINDOW_MS = 10_000;
const history = new Map(); // eventId -> [{ t, decided }]

function cell(text, field) {
  const td = document.createElement('td');
  td.textContent = text;
  if (field) td.dataset.field = field;
  return td;
}

function ratePerSecond(event, now) {
  const samples = (history.get(event.eventId) ?? []).filter((s) => now - s.t <= WINDOW_MS);
  samples.push({ t: now, decided: event.decided });
  history.set(event.eventId, samples);
  const first = samples[0];
  const seconds = (now - first.t) / 1000;
  return seconds > 0 ? Math.max(0, (event.decided - first.decided) / seconds) : 0;
}

function money(cents, currency) {
  return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);
}

function render(overview) {
  const now = Date.parse(overview.at);
  const rows = overview.items.map((event) => {
    const tr = document.createElement('tr');
    tr.dataset.eventId = event.eventId;
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
      cell(String(event.availableTickets), 'available'),
      cell(String(event.waitlisted), 'waitlisted'),
      cell(String(event.queueDepth), 'queueDepth'),
      cell(ratePerSecond(event, now).toFixed(1), 'rate'),
      cell(money(event.revenueCents, event.currency), 'revenue'),
    );
    return tr;
  });
  const body = document.getElementById('events');
  if (rows.length > 0) body.replaceChildren(...rows);
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
poll();
