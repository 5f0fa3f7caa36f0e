export interface Address {
  city: string;
  zip: string;
}

const ADDRESSES: Record<string, Address> = {
  cus_1: { city: "Berlin", zip: "10115" },
  cus_2: { city: "Lyon", zip: "69001" },
};

/** The address line of a parcel label ("10115 Berlin"); a customer with no address on file gets no line: "". */
export function addressLine(customerId: string): string {
  const { city, zip } = ADDRESSES[customerId];
  return `${zip} ${city}`;
}

export function customersWithAddress(): number {
  return Object.keys(ADDRESSES).length;
}
