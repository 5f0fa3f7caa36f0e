import type { Request, Response } from "../express";

const API_KEYS = new Set(["key_live_7f3a", "key_live_91bc"]);

interface Batch {
  points: { name: string; value: number }[];
}

export function ingestBatch(req: Request, res: Response) {
  const apiKey = req.headers["x-api-key"].trim();
  if (!API_KEYS.has(apiKey)) {
    return res.status(403).json({ error: "invalid api key" });
  }
  const batch = (req.body ?? { points: [] }) as Batch;
  return res.status(202).json({ accepted: batch.points.length });
}
