// Build step (run by CI and before tests): data/catalog.csv -> src/generated/catalog.json
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [header, ...rows] = readFileSync(join(root, "data/catalog.csv"), "utf8").trim().split("\n");
const columns = header.split(",");
const products = {};
for (const row of rows) {
  const cell = Object.fromEntries(row.split(",").map((value, i) => [columns[i], value]));
  (products[cell.sku] ??= []).push({
    variant: cell.variant,
    size: cell.size,
    pricePence: Number(cell.price_pence),
    stock: Number(cell.stock),
  });
}
mkdirSync(join(root, "src/generated"), { recursive: true });
writeFileSync(join(root, "src/generated/catalog.json"), JSON.stringify(products, null, 2));
console.log(`catalog: ${Object.keys(products).length} products, ${rows.length} variants`);
