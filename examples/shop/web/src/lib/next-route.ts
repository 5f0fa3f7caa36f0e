// The Next.js side of the house observability: next.config.mjs has every src/app/**/route.ts module's handlers
// wrapped with observedRoute (by observe-routes-loader.cjs, at build time; the route files stay as written).
import { observe, processObservability } from "./observe";
import { routeTemplate } from "./route-template";
import type { RouteHandler } from "./router";

/** ``handler`` of the route in ``folder`` (relative to src/app, e.g. ``api/practices/[id]``), observed. */
export function observedRoute(folder: string, handler: RouteHandler): RouteHandler {
  const template = routeTemplate(folder.split("/").filter(Boolean));
  return (request, context) => observe(processObservability(), request, template, () => handler(request, context));
}
