from fastapi import FastAPI

from fleet.routes import router

app = FastAPI(title="fleet-api")
app.include_router(router)
