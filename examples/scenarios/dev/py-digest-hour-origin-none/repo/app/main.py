from fastapi import FastAPI

from app.prefs import digest_hour

app = FastAPI(title="newsletter-api")

UTC_OFFSETS = {"rdr_102": -5}


@app.get("/readers/{reader_id}/digest")
def digest_schedule(reader_id: str) -> dict[str, str]:
    hour = digest_hour(reader_id)
    local = (hour + UTC_OFFSETS.get(reader_id, 0)) % 24
    return {"reader_id": reader_id, "digest_at": f"{local:02d}:00"}
