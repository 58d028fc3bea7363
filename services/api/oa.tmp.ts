import { startTestSystem } from './services/api/test/support/test-system.js';
const s = await startTestSystem({}, { worker: false });
const doc = s.app.swagger();
console.log(JSON.stringify(doc, null, 2));
await s.close();
