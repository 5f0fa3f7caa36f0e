// webpack loader (next.config.mjs, server builds only): the module built for src/app/<folder>/route.ts re-exports
// the route file as written (imported again with ?observed, which this loader passes through) with each HTTP
// handler wrapped by observedRoute (src/lib/next-route.ts): the house logs, metrics, 500 body and error reports
// of src/lib/observe.ts, without a line in the route files. Stack traces still point into the route's code.
const path = require("node:path");

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

module.exports = function observeRoutes(source) {
  if (this.resourceQuery.includes("observed")) return source;
  const { appDir } = this.getOptions();
  const folder = path.relative(appDir, path.dirname(this.resourcePath)).split(path.sep).join("/");
  const exported = METHODS.filter((method) =>
    new RegExp(`export\\s+(?:async\\s+)?(?:function\\s*\\*?|const|let|var)\\s+${method}\\b`).test(source),
  );
  const original = JSON.stringify(`./${path.basename(this.resourcePath)}?observed`);
  return [
    `import * as route from ${original};`,
    `import { observedRoute } from "@/lib/next-route";`,
    `export * from ${original};`,
    ...exported.map((method) => `export const ${method} = observedRoute(${JSON.stringify(folder)}, route.${method});`),
    "",
  ].join("\n");
};
