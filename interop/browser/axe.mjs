// Accessibility checks with axe-core (npm), for any page of the browser tests:
//   import { checkA11y } from './axe.mjs';
//   await checkA11y(page, 'credentials');   // throws on any serious or critical violation
// axe's source is evaluated through the DevTools protocol, so the pages' Content-Security-Policy
// (script-src 'self') stays as deployed.
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe (WCAG 2.x A and AA rules and best practices) on the page as it is now; returns the
 *  violations and throws when one is serious or critical. */
export async function checkA11y(page, label) {
  await page.evaluate(source);
  const results = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }));
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length > 0) {
    const detail = bad
      .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`)
      .join('\n  ');
    throw new Error(`accessibility (${label}): ${bad.length} serious or critical violation(s):\n  ${detail}`);
  }
  return results.violations;
}
