export const DIETS = ["vegan", "vegetarian", "gluten-free", "nut-free", "dairy-free"] as const;
export type Diet = (typeof DIETS)[number];

export interface Dish {
  id: string;
  name: string;
  pricePence: number;
  diets: Diet[];
}

export const DISHES: Dish[] = [
  { id: "d_01", name: "Charred hispi cabbage", pricePence: 950, diets: ["vegan", "vegetarian", "gluten-free", "nut-free", "dairy-free"] },
  { id: "d_02", name: "Burrata, blood orange", pricePence: 1200, diets: ["vegetarian", "gluten-free", "nut-free"] },
  { id: "d_03", name: "Satay tofu skewers", pricePence: 1050, diets: ["vegan", "vegetarian", "gluten-free", "dairy-free"] },
  { id: "d_04", name: "Lamb rump, salsa verde", pricePence: 2400, diets: ["gluten-free", "nut-free", "dairy-free"] },
  { id: "d_05", name: "Mushroom ragu pappardelle", pricePence: 1600, diets: ["vegan", "vegetarian", "nut-free", "dairy-free"] },
];

export const isDiet = (value: string): value is Diet => (DIETS as readonly string[]).includes(value);
