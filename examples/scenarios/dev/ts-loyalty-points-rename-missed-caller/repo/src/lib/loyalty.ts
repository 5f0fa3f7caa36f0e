/** Loyalty points: one point per whole pound spent, doubled on members' days. */
export const POINTS_PER_POUND = 1;

export const pointsFor = (totalPence: number, membersDay = false): number => {
  const points = Math.floor(totalPence / 100) * POINTS_PER_POUND;
  return membersDay ? points * 2 : points;
};
