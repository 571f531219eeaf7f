// Copies the distributed files of the pinned browser libraries (package.json) into vendor/.
// vendor/ is committed: the app embeds it, so a fresh clone builds and runs without npm.
// Re-run after changing a version: `npm ci && npm run vendor`.
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "vendor");
const files = [
  ["fullcalendar/index.global.min.js", "fullcalendar/index.global.min.js"],
  ["fullcalendar/LICENSE.md", "fullcalendar/LICENSE.md"],
  ["chart.js/dist/chart.umd.min.js", "chart.js/chart.umd.min.js"],
  ["chart.js/LICENSE.md", "chart.js/LICENSE.md"],
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"],
  ["swagger-ui-dist/LICENSE", "swagger-ui/LICENSE"],
];
rmSync(out, { recursive: true, force: true });
for (const [from, to] of files) {
  const dest = join(out, to);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(join(here, "node_modules", from), dest);
  console.log(`vendor/${to}`);
}
