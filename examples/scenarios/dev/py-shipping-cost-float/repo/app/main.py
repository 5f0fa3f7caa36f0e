from fastapi import FastAPI
from pydantic import BaseModel

from app.pricing import shipping_cost

app = FastAPI(title="parcel-quotes")


class QuoteRequest(BaseModel):
    zone: str
    weight_kg: float


@app.post("/quotes")
def quote(body: QuoteRequest) -> dict[str, object]:
    return {"zone": body.zone, "cost": shipping_cost(body.zone, body.weight_kg)}
