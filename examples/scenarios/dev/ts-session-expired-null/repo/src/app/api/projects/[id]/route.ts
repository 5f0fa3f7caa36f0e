import { currentUserId } from "@/lib/permissions";

const projects = new Map([
  ["prj_1", { id: "prj_1", title: "Website relaunch" }],
  ["prj_2", { id: "prj_2", title: "Q3 hiring" }],
]);

export async function PATCH(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const userId = await currentUserId(request);
  if (!userId) {
    return Response.json({ error: "Sign in again" }, { status: 401 });
  }
  const project = projects.get(id);
  if (!project) {
    return Response.json({ error: "Project not found" }, { status: 404 });
  }
  const { title } = (await request.json()) as { title: string };
  project.title = title;
  return Response.json(project);
}
