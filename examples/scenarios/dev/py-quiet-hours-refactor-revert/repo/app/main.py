from datetime import datetime

from fastapi import FastAPI

from app.preferences import should_notify

app = FastAPI(title="notify-service")


@app.get("/users/{user_id}/notify-now")
def notify_now(user_id: str, at: datetime) -> dict[str, object]:
    return {"user_id": user_id, "notify": should_notify(user_id, at)}
