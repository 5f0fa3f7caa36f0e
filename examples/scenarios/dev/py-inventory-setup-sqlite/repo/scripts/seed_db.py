"""Create the local warehouse database from db/seed.sql (run once before tests)."""

import sqlite3
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = ROOT / "inventory.db"

if __name__ == "__main__":
    DB.unlink(missing_ok=True)
    with sqlite3.connect(DB) as conn:
        conn.executescript((ROOT / "db" / "seed.sql").read_text())
    print(f"seeded {DB.name}")
