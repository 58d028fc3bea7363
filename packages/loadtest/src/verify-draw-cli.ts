import { parseVerifyArgs, verifyDraw, VERIFY_USAGE } from './verify-draw.js';

let request;
try {
  request = parseVerifyArgs(process.argv.slice(2));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(message === VERIFY_USAGE ? `${message}\n` : `${message}\n\n${VERIFY_USAGE}\n`);
  process.exit(2);
}
const outcome = await verifyDraw(request);
(outcome.ok ? process.stdout : process.stderr).write(`${outcome.lines.join('\n')}\n`);
process.exit(outcome.ok ? 0 : 1);
