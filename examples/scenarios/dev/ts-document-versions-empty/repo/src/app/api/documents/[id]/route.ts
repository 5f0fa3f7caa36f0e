import { findDocument } from "@/lib/documents";

export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const { id } = await params;
  const doc = findDocument(id);
  if (!doc) {
    return Response.json({ error: "Document not found" }, { status: 404 });
  }
  return Response.json({ id: doc.id, title: doc.title, versions: doc.versions.length });
}
