// File-system router: src/app/<path>/route.ts exports GET/POST/... like Next.js route handlers.
// `[id]` folders are dynamic segments, reported as `:id` in route templates.
import { readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";

import { routeSegments, routeTemplate } from "./route-template";

export type RouteHandler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

export interface Route {
  template: string;
  segments: string[];
  module: Record<string, unknown>;
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

function routeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return routeFiles(path);
    return name === "route.ts" ? [path] : [];
  });
}

export async function loadRoutes(appDir: string): Promise<Route[]> {
  const routes: Route[] = [];
  for (const file of routeFiles(appDir)) {
    const folder = relative(appDir, file).split(sep).slice(0, -1);
    routes.push({ template: routeTemplate(folder), segments: routeSegments(folder), module: await import(pathToFileURL(file).href) });
  }
  // static segments win over dynamic ones at the same depth
  return routes.sort((a, b) => dynamicCount(a) - dynamicCount(b));
}

function dynamicCount(route: Route): number {
  return route.segments.filter((s) => s.startsWith(":")).length;
}

export function match(routes: Route[], pathname: string): Match | null {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  for (const route of routes) {
    if (route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = route.segments.every((segment, i) => {
      if (segment.startsWith(":")) {
        params[segment.slice(1)] = parts[i];
        return true;
      }
      return segment === parts[i];
    });
    if (ok) return { route, params };
  }
  return null;
}
