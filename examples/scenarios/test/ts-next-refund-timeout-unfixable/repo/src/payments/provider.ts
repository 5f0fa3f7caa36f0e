export class ProviderTimeout extends Error {
  name = "ProviderTimeout";
}

export async function refund(chargeId: string, timeoutMs = 1): Promise<{ id: string; status: string }> {
  if (chargeId.startsWith("ch_slow") && timeoutMs < 1000) {
    throw new ProviderTimeout(`payments provider did not answer in ${timeoutMs}ms (refund ${chargeId})`);
  }
  return { id: `re_${chargeId}`, status: "succeeded" };
}
