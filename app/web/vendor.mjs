// Copies the distributed files of the pinned browser libraries (package.json) into vendor/.
// vendor/ is committed: the app embeds it, so a fresh clone builds and runs without npm.
// Re-run after changing a version: `npm ci && npm run vendor`.
//
// FullCalendar 6 injects its CSS at run time into a <style> element and fills it through CSSOM.
// The app's Content-Security-Policy (`style-src 'self'`, no nonce) blocks that element, its `sheet`
// is null and the bundle would throw on load. So this script (1) extracts the bundle's CSS into
// vendor/fullcalendar/fullcalendar.css, served as a normal same-origin stylesheet, and (2) turns the
// injector (registerStylesRoot) into a no-op in the minified bundle. Both steps assert that they found
// exactly what they expect, so a version bump that changes the bundle fails loudly here.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "vendor");
const modules = join(here, "node_modules");
const files = [
  ["fullcalendar/LICENSE.md", "fullcalendar/LICENSE.md"],
  ["chart.js/dist/chart.umd.min.js", "chart.js/chart.umd.min.js"],
  ["chart.js/LICENSE.md", "chart.js/LICENSE.md"],
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"],
  ["swagger-ui-dist/LICENSE", "swagger-ui/LICENSE"],
];
rmSync(out, { recursive: true, force: true });
function write(to, content) {
  const dest = join(out, to);
  mkdirSync(dirname(dest), { recursive: true });
  writeFileSync(dest, content);
  console.log(`vendor/${to}`);
}
for (const [from, to] of files) {
  const dest = join(out, to);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(join(modules, from), dest);
  console.log(`vendor/${to}`);
}

// (1) CSS: every `var css_248z... = "...";` string literal of the readable global bundle, in order.
const readable = readFileSync(join(modules, "fullcalendar/index.global.js"), "utf8");
const cssLiterals = [...readable.matchAll(/^\s*var css_248z(?:\$\d+)? = ("(?:[^"\\]|\\.)*");$/gm)];
if (cssLiterals.length !== 5) {
  throw new Error(`fullcalendar: expected 5 CSS blocks in index.global.js, found ${cssLiterals.length}`);
}
const injected = [...readable.matchAll(/^\s*injectStyles\(css_248z(?:\$\d+)?\);$/gm)].length;
if (injected !== cssLiterals.length) {
  throw new Error(`fullcalendar: ${cssLiterals.length} CSS blocks but ${injected} injectStyles calls`);
}
let css = cssLiterals.map((m) => JSON.parse(m[1])).join("\n");
// The icon font is inlined as a data: URL, which `font-src` (default-src 'self') refuses: serve it as a
// file next to the stylesheet instead.
const fonts = [...css.matchAll(/url\("data:application\/x-font-ttf;charset=utf-8;base64,([A-Za-z0-9+/=]+)"\)/g)];
if (fonts.length !== 1) throw new Error(`fullcalendar: expected one inlined icon font, found ${fonts.length}`);
write("fullcalendar/fcicons.ttf", Buffer.from(fonts[0][1], "base64"));
css = css.replace(fonts[0][0], 'url("fcicons.ttf")');
write("fullcalendar/fullcalendar.css", `/*! FullCalendar v6 styles, extracted from the global bundle by vendor.mjs (MIT) */\n${css}\n`);

// (2) JS: make the minified registerStylesRoot return at once, so no <style> element is ever created.
const minified = readFileSync(join(modules, "fullcalendar/index.global.min.js"), "utf8");
const injector =
  /function (\w+)\((\w+)\)\{(let (\w+)=\w+\.get\(\2\);if\(!\4\|\|!\4\.isConnected\)\{if\(\4=\2\.querySelector\("style\[data-fullcalendar\]"\))/g;
const hits = [...minified.matchAll(injector)];
if (hits.length !== 1) {
  throw new Error(`fullcalendar: expected the style injector once in index.global.min.js, found ${hits.length}`);
}
const patched = minified.replace(injector, "function $1($2){return;$3");
write(
  "fullcalendar/index.global.min.js",
  patched.replace(/^/, "/* Patched by uYoop-Cal vendor.mjs: styles come from fullcalendar.css (CSP without inline styles). */\n"),
);
