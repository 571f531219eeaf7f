// Every front-end module parses and its imports resolve (a typo in an import path would otherwise only
// show in the browser), and no module writes HTML from strings except dom.js's trustedHtml().
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const JS_DIR = new URL("../../../app/web/assets/js/", import.meta.url).pathname;
const files = (function walk(dir) {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : n.endsWith(".js") ? [join(dir, n)] : []));
})(JS_DIR);

test("all modules import in Node (DOM is only touched when they run)", async () => {
  for (const file of files) {
    if (file.endsWith("/app.js")) continue; // boots the page on import
    await import(file);
  }
});

test("no innerHTML/insertAdjacentHTML/outerHTML outside trustedHtml, no inline style attributes", () => {
  for (const file of files) {
    const src = readFileSync(file, "utf8");
    const rel = file.replace(JS_DIR, "");
    const html = [...src.matchAll(/\.(innerHTML|outerHTML|insertAdjacentHTML)\b/g)];
    if (rel === "dom.js") assert.equal(html.length, 1, "dom.js: only trustedHtml writes innerHTML");
    else assert.equal(html.length, 0, `${rel} writes HTML from a string`);
    assert.doesNotMatch(src, /setAttribute\("style"|style=\\?"/, `${rel} sets an inline style attribute (CSP style-src 'self')`);
    assert.doesNotMatch(src, /\beval\(|new Function\(/, `${rel} evaluates code`);
    assert.doesNotMatch(src, /localStorage\.setItem\([^)]*(token|access)/i, `${rel} stores a token`);
  }
});

test("index.html has no inline script or style (CSP script-src/style-src 'self')", () => {
  const html = readFileSync(join(JS_DIR, "../../index.html"), "utf8");
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(m[1], /\bsrc="\//, "every script has a same-origin src");
    assert.equal(m[2].trim(), "", "no inline script body");
  }
  assert.doesNotMatch(html, /<style\b|\sstyle="|\son[a-z]+="/i);
  assert.match(html, /<script src="\/assets\/js\/app.js" type="module">/);
});
