import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { LoadResult } from './run.js';

const fromPackage = createRequire(import.meta.url);
const read = (path: string | URL): string => readFileSync(path, 'utf8');

/**
 * The report is one file that opens anywhere, offline: uPlot (a small canvas chart library), its
 * style sheet and the page's script are written into it, and so is the run, as JSON.
 */
const ASSETS = {
  uplotScript: read(fromPackage.resolve('uplot/dist/uPlot.iife.min.js')),
  uplotStyle: read(fromPackage.resolve('uplot/dist/uPlot.min.css')),
  pageScript: read(new URL('./report-page.js', import.meta.url)),
  pageStyle: read(new URL('./report-page.css', import.meta.url)),
};

/** JSON that can sit inside a `<script>` element: nothing in it can close the element or open a comment. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

/** Inline code must not end its own element early. */
function inline(code: string, element: 'script' | 'style'): string {
  if (code.toLowerCase().includes(`</${element}`)) throw new Error(`inline ${element} would end early`);
  return code;
}

/** The HTML report of a run: charts over time, outcomes, errors by kind, the audit, the settings. */
export function renderReport(result: LoadResult, generatedAt: Date): string {
  const data = jsonForScript({ generatedAt: generatedAt.toISOString(), result });
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:" />
    <title>Load test report · Ticketing</title>
    <style>${inline(ASSETS.uplotStyle, 'style')}</style>
    <style>${inline(ASSETS.pageStyle, 'style')}</style>
  </head>
  <body>
    <header>
      <h1>Load test report</h1>
      <p id="verdict"></p>
      <p id="target"></p>
    </header>
    <section id="summary" class="cards"></section>
    <section class="charts">
      <figure id="rate-chart"></figure>
      <figure id="latency-chart"></figure>
      <figure id="outcome-chart"></figure>
      <figure id="error-chart"></figure>
    </section>
    <section class="tables">
      <div><h2>Outcomes</h2><table id="outcomes"></table></div>
      <div><h2>Errors by kind</h2><table id="errors"></table><ul id="error-samples"></ul></div>
      <div><h2>Audit of the books</h2><p id="audit"></p><ul id="violations"></ul></div>
      <div><h2>Settings</h2><table id="settings"></table></div>
    </section>
    <script type="application/json" id="run">${data}</script>
    <script>${inline(ASSETS.uplotScript, 'script')}</script>
    <script>${inline(ASSETS.pageScript, 'script')}</script>
  </body>
</html>
`;
}
