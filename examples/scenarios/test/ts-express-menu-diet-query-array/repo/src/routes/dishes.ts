import type { Request, Response } from "../http";
import { DISHES, isDiet } from "../menu";

// GET /dishes?diet=vegan,nut-free: the dishes that suit every diet asked for.
export function listDishes(req: Request, res: Response): void {
  const wanted = typeof req.query.diet === "string" ? req.query.diet.split(",") : [];
  const diets = wanted.map((d) => d.trim().toLowerCase()).filter(Boolean);
  const unknown = diets.filter((d) => !isDiet(d));
  if (unknown.length > 0) {
    res.status(400).json({ message: `unknown diet: ${unknown.join(", ")}` });
    return;
  }
  const dishes = DISHES.filter((dish) => diets.every((d) => (dish.diets as string[]).includes(d)));
  res.json({ dishes: dishes.map(({ id, name, pricePence }) => ({ id, name, pricePence })) });
}

// GET /dishes/:id
export function getDish(req: Request, res: Response): void {
  const dish = DISHES.find((d) => d.id === req.params.id);
  if (!dish) {
    res.status(404).json({ message: "dish not found" });
    return;
  }
  res.json(dish);
}
