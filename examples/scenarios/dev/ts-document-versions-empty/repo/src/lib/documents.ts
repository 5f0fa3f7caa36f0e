export interface Version {
  number: number;
  publishedAt: string;
  author: string;
}

export interface Document {
  id: string;
  title: string;
  // oldest first; drafts that were never published have none
  versions: Version[];
}

const DOCUMENTS: Document[] = [
  {
    id: "doc_1",
    title: "Onboarding handbook",
    versions: [
      { number: 1, publishedAt: "2025-01-04T10:00:00Z", author: "nia" },
      { number: 2, publishedAt: "2025-05-19T15:30:00Z", author: "omar" },
    ],
  },
  { id: "doc_2", title: "Security policy (draft)", versions: [] },
];

export function findDocument(id: string): Document | undefined {
  return DOCUMENTS.find((d) => d.id === id);
}
