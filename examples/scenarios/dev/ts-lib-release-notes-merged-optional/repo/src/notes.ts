// The release notes the release bot posts to the changelog: the release heading, then one entry per merged change.

export interface Change {
  title: string;
  pr: number;
  author?: string; // changes carried over from the old tracker have no author
  mergedAt?: string; // ISO timestamp of the merge; carried-over changes have none
  labels?: string[];
}

export interface NotesOptions {
  repository: string; // "owner/name", for the pull request links
  heading?: string;
}

export function releaseNotes(version: string, changes: Change[], releasedOn: Date, options: NotesOptions): string {
  const heading = options.heading ?? "Release";
  const lines = [`## ${heading} ${version} (${releasedOn.toISOString().slice(0, 10)})`, ""];
  for (const change of changes) {
    const link = `https://github.com/${options.repository}/pull/${change.pr}`;
    lines.push(`- ${change.title} ([#${change.pr}](${link}))`);
    if (change.author) lines.push(`  by @${change.author}`);
    lines.push(`  merged ${new Date(change.mergedAt).toISOString().slice(0, 10)}`);
    if (change.labels && change.labels.length > 0) lines.push(`  labels: ${change.labels.join(", ")}`);
  }
  return lines.join("\n") + "\n";
}
