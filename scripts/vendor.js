// Copies the front-end packages installed by npm into static/vendor/ so the
// portal serves them itself (never from a CDN). Run: npm ci && npm run vendor
const fs = require("fs");
const path = require("path");
const root = path.join(__dirname, "..");
const files = [["node_modules/htmx.org/dist/htmx.min.js", "static/vendor/htmx.min.js"]];
for (const [from, to] of files) {
  fs.mkdirSync(path.dirname(path.join(root, to)), { recursive: true });
  fs.copyFileSync(path.join(root, from), path.join(root, to));
  console.log(`${from} -> ${to}`);
}
