export interface Run {
  number: number;
  outcome: "passed" | "failed" | "running";
  startedAt: string;
}

export interface Pipeline {
  id: string;
  repo: string;
  runs: Run[];
}

const PIPELINES: Pipeline[] = [
  {
    id: "pl_web",
    repo: "acme/web",
    runs: [
      { number: 41, outcome: "failed", startedAt: "2025-07-21T08:00:00Z" },
      { number: 42, outcome: "passed", startedAt: "2025-07-21T09:30:00Z" },
    ],
  },
  { id: "pl_docs", repo: "acme/docs", runs: [] },
];

export function pipelineById(id: string): Pipeline | undefined {
  return PIPELINES.find((p) => p.id === id);
}
