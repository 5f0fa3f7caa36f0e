import { pipelineById } from "@/lib/pipelines";

export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const pipeline = pipelineById(id);
  if (!pipeline) {
    return Response.json({ error: "Pipeline not found" }, { status: 404 });
  }
  const run = pipeline.runs[pipeline.runs.length - 1];
  return Response.json({ number: run.number, outcome: run.outcome, startedAt: run.startedAt });
}
