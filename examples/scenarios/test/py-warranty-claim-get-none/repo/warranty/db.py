from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import Depends
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from warranty.models import Base, Claim, Product

# One in-process SQLite database; production points DATABASE_URL at PostgreSQL.
engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
SessionLocal = sessionmaker(engine, expire_on_commit=False)


def get_db() -> Iterator[Session]:
    with SessionLocal() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]


def seed() -> None:
    Base.metadata.create_all(engine)
    with SessionLocal.begin() as session:
        kettle = Product(sku="KT-200", name="Kettle 200", warranty_months=24)
        blender = Product(sku="BL-550", name="Blender 550 Pro", warranty_months=36)
        session.add_all(
            [
                kettle,
                blender,
                Claim(
                    reference="WR-1041",
                    product=kettle,
                    serial="KT2-88311",
                    purchased_on=date(2025, 3, 14),
                    status="in_repair",
                    fault="Switch does not click off",
                ),
                Claim(
                    reference="WR-1042",
                    product=blender,
                    serial="BL5-10290",
                    purchased_on=date(2026, 1, 2),
                    fault="Jug cracked at the base",
                ),
            ]
        )
