export interface Profile {
  displayName: string;
  avatarKey: string;
}

export interface User {
  id: string;
  email: string;
  createdAt: string;
  profile?: Profile;
}

// Users who signed up but never finished onboarding have no profile yet.
const users: Record<string, User> = {
  usr_1: { id: "usr_1", email: "ada@example.com", createdAt: "2024-01-10", profile: { displayName: "Ada", avatarKey: "a/ada.png" } },
  usr_2: { id: "usr_2", email: "new@example.com", createdAt: "2025-06-01" },
};

export async function currentUser(request: Request): Promise<User | null> {
  const id = request.headers.get("x-user-id");
  return id ? (users[id] ?? null) : null;
}
