from fastapi import FastAPI

from warranty import claims, db

db.seed()

app = FastAPI(title="warranty-desk")
app.include_router(claims.router)
