from fastapi import FastAPI, HTTPException

app = FastAPI(title="members-api")

USERS: dict[str, dict[str, str]] = {
    "usr_100": {"name": "Ada Lovelace", "plan": "pro"},
    "usr_101": {"name": "Grace Hopper", "plan": "free"},
}


@app.get("/users/{user_id}")
def read_user(user_id: str) -> dict[str, str]:
    user = USERS.get(user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="User not found")
    return {"id": user_id, **user}
