// A route folder under src/app as its route template: `[id]` folders are dynamic segments, written `:id`.
// Used by the node:http router (src/lib/router.ts) and by the Next.js route wrapper (src/lib/next-route.ts).
export function routeSegments(folder: readonly string[]): string[] {
  return folder.map((part) => (part.startsWith("[") && part.endsWith("]") ? `:${part.slice(1, -1)}` : part));
}

export function routeTemplate(folder: readonly string[]): string {
  return "/" + routeSegments(folder).join("/");
}
