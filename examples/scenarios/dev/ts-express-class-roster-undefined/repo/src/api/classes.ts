import type { ApiRequest, ApiResponse } from "../types";

const members = new Map([
  ["mb_1", { id: "mb_1", name: "Ines Duarte", plan: "peak" }],
  ["mb_2", { id: "mb_2", name: "Tom Reyes", plan: "off-peak" }],
]);
const classes = new Map([["cl_spin", { id: "cl_spin", coach: "Ada", capacity: 12, roster: ["mb_1", "mb_2"] }]]);

export function getMember(req: ApiRequest, res: ApiResponse): void {
  const member = members.get(req.params.memberId);
  if (!member) {
    res.status(404).json({ message: "member not found" });
    return;
  }
  res.json({ id: member.id, name: member.name, plan: member.plan });
}

export function getRoster(req: ApiRequest, res: ApiResponse): void {
  const { classId } = req.params;
  const session = classes.get(classId);
  const spaces = session.capacity - session.roster.length;
  res.json({ coach: session.coach, members: session.roster.length, spaces });
}
