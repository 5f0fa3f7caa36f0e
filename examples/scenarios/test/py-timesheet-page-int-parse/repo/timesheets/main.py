from fastapi import FastAPI

from timesheets import entries

app = FastAPI(title="timesheets-api")
app.include_router(entries.router)
