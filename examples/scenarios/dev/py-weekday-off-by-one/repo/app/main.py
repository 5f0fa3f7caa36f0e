from fastapi import FastAPI, HTTPException

from app.hours import DAY_NAMES, OPENING_HOURS

app = FastAPI(title="practice-hours")


@app.get("/practices/{practice_id}/hours")
def weekly_hours(practice_id: str) -> dict[str, object]:
    week = OPENING_HOURS.get(practice_id)
    if week is None:
        raise HTTPException(status_code=404, detail="Practice not found")
    return {day: (None if slot is None else {"opens": slot[0], "closes": slot[1]}) for day, slot in zip(DAY_NAMES, week)}
