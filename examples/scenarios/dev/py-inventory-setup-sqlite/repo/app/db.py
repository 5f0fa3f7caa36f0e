import os
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine

DEFAULT_DB = Path(__file__).resolve().parent.parent / "inventory.db"
engine = create_engine(f"sqlite:///{os.environ.get('INVENTORY_DB', DEFAULT_DB)}")
metadata = MetaData()
stock = Table(
    "stock",
    metadata,
    Column("sku", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("on_hand", Integer, nullable=False),
    Column("reserved", Integer, nullable=False),
)
