/**
 * Runs in every test file (vitest `setupFiles`): after each test, the replay checks its clients
 * started (replay-audit.ts) must have found nothing; after the file, what was checked is printed.
 */
import { afterAll, afterEach } from 'vitest';
import { auditTotals, settleAudit } from './replay-audit.js';

afterEach(async () => {
  const found = await settleAudit();
  if (found.length > 0) throw new Error(`replay audit: ${found.length} final view(s) differ from their replay\n${found.join('\n')}`);
});

afterAll(async () => {
  await settleAudit();
  if (auditTotals.views === 0 && auditTotals.skipped.size === 0) return;
  const skipped = [...auditTotals.skipped].map(([why, n]) => `${n} not checked: ${why}`).join('; ');
  process.stdout.write(`replay audit: ${auditTotals.replays} finished games, ${auditTotals.views} final views equal their replay${skipped ? `; ${skipped}` : ''}\n`);
});
