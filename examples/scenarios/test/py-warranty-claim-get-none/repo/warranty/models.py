from datetime import date

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    warranty_months: Mapped[int]


class Claim(Base):
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    serial: Mapped[str] = mapped_column(String(40))
    purchased_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="received")
    fault: Mapped[str] = mapped_column(String(500))

    product: Mapped[Product] = relationship()
