// node:http front for the app: PORT (default 3000), SHOP_LOG_FILE, SHOP_RELEASE, SHOP_COMMIT, SHOP_ENVIRONMENT.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";

import { createApp, type App } from "./app";

async function toRequest(req: IncomingMessage): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) headers.set(name, value.join(", "));
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD" && chunks.length > 0;
  return new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, {
    method: req.method,
    headers,
    body: hasBody ? Buffer.concat(chunks) : undefined,
  });
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => res.setHeader(name, value));
  res.end(Buffer.from(await response.arrayBuffer()));
}

export async function startServer(port: number, app?: App): Promise<Server> {
  const shop = app ?? (await createApp());
  const server = createServer((req, res) => {
    toRequest(req)
      .then((request) => shop.handle(request))
      .then((response) => send(res, response))
      .catch(() => {
        res.statusCode = 400;
        res.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const server = await startServer(Number(process.env.PORT ?? "3000"));
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ ts: new Date().toISOString(), level: "info", msg: `shop-web listening on ${port}`, service: "web" }));
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
