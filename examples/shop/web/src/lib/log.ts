// JSON-lines application log (one object per line: ts, level, msg, service, route, status, error.stack, ...).
import { appendFileSync } from "node:fs";

export type Level = "debug" | "info" | "warn" | "error" | "fatal";

export interface LogContext {
  service: string;
  release: string;
  commit: string;
  environment: string;
  file: string | null;
}

export function loggerContext(env: NodeJS.ProcessEnv = process.env): LogContext {
  return {
    service: env.SHOP_SERVICE ?? "web",
    release: env.SHOP_RELEASE ?? "shop-web@dev",
    commit: env.SHOP_COMMIT ?? "unknown",
    environment: env.SHOP_ENVIRONMENT ?? "development",
    file: env.SHOP_LOG_FILE ?? null,
  };
}

export function errorFields(error: unknown): { type: string; message: string; stack: string } {
  if (error instanceof Error) {
    return { type: error.name, message: error.message, stack: error.stack ?? `${error.name}: ${error.message}` };
  }
  return { type: "Error", message: String(error), stack: `Error: ${String(error)}` };
}

export class Logger {
  constructor(private readonly context: LogContext) {}

  write(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
    const { file, ...base } = this.context;
    const line = JSON.stringify({ ts: new Date().toISOString(), level, msg, ...base, ...fields }) + "\n";
    if (file) {
      appendFileSync(file, line);
    } else {
      process.stdout.write(line);
    }
  }
}
