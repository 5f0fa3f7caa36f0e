import type { User } from "./users";

export const AVATAR_CDN = "https://cdn.community.example/avatars";

export function initials(name: string): string {
  return name
    .split(/\s+/)
    .map((part) => part[0]?.toUpperCase() ?? "")
    .join("")
    .slice(0, 2);
}

export function avatarFor(user: User): { url: string | null; initials: string } {
  if (!user.profile) {
    return { url: null, initials: initials(user.email) };
  }
  return { url: `${AVATAR_CDN}/${user.profile.avatarKey}`, initials: initials(user.profile.displayName) };
}
