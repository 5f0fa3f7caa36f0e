from fastapi import FastAPI

from app.routes import practices

app = FastAPI(title="clinic-api")
app.include_router(practices.router)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
