"""Regions, schools, canteens, kitchen areas and cameras."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db_types import DefaultNow, EncryptedText, IntPK, SchoolRef
from backend.enums import LabelledStrEnum
from backend.extensions import db


class RegionLevel(StrEnum):
    """Administrative levels of the region tree."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


class SchoolKind(StrEnum):
    """Kinds of school (a meal supplier cooks for several schools)."""

    KINDERGARTEN = "kindergarten"
    PRIMARY = "primary"
    SECONDARY = "secondary"
    UNIVERSITY = "university"
    MEAL_SUPPLIER = "meal_supplier"


class AreaKind(StrEnum):
    """Kinds of kitchen area."""

    HOT_KITCHEN = "hot_kitchen"
    PREP = "prep"
    COLD_ROOM = "cold_room"
    STORAGE = "storage"
    WASHING = "washing"
    SAMPLE_ROOM = "sample_room"
    DINING = "dining"


class Meal(LabelledStrEnum):
    """Meals of a day: the canteen's meal windows and the records kept per meal use these names."""

    BREAKFAST = "breakfast", "早餐"
    LUNCH = "lunch", "午餐"
    SNACK = "snack", "加餐"
    DINNER = "dinner", "晚餐"


class SourceKind(StrEnum):
    """How a camera's frames are read."""

    FILE = "file"
    RTSP = "rtsp"
    RTMP = "rtmp"
    HLS = "hls"
    HTTP_SNAPSHOT = "http_snapshot"
    # The camera pushes RTMP to the platform's media server (its publish key: POST /live/cameras/<id>/publish-key);
    # readers inside the platform play that stream (backend/live/services.py ``sample_source``).
    PUSH = "push"


class Region(db.Model):
    """A node of the province / city / county tree; regulators are scoped to one."""

    __tablename__ = "region"

    id: Mapped[IntPK]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    # Materialised ancestry "/1/5/9/": a regulator of region 5 sees every school whose path starts "/1/5/".
    path: Mapped[str] = mapped_column(String(255), index=True, default="")

    parent: Mapped[Region | None] = relationship(remote_side="Region.id", back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent")


class School(db.Model):
    """A school (or a central kitchen that supplies schools)."""

    __tablename__ = "school"

    id: Mapped[IntPK]
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[DefaultNow]

    region: Mapped[Region] = relationship()
    canteens: Mapped[list[Canteen]] = relationship(back_populates="school", order_by="Canteen.id")


class SchoolClass(db.Model):
    """A class of a school (三年级二班), kept by the school's staff; a parent's binding names one of them."""

    __tablename__ = "school_class"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    id: Mapped[IntPK]
    school_id: Mapped[SchoolRef]
    name: Mapped[str] = mapped_column(String(64))
    # Where the class appears in pickers: staff order classes by grade, which names do not sort into.
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[DefaultNow]


class Canteen(db.Model):
    """A canteen of a school, with meal windows and the windows in which parents may watch live.

    Windows are lists of ``{"weekday": 0-6 (Monday=0), "start": "HH:MM", "end": "HH:MM"}`` in
    Asia/Shanghai; meal windows also carry ``"meal"``.
    """

    __tablename__ = "canteen"

    id: Mapped[IntPK]
    school_id: Mapped[SchoolRef]
    name: Mapped[str] = mapped_column(String(100))
    meal_windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    live_windows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[DefaultNow]

    school: Mapped[School] = relationship(back_populates="canteens")
    areas: Mapped[list[KitchenArea]] = relationship(back_populates="canteen", order_by="KitchenArea.id")


class KitchenArea(db.Model):
    """A part of a kitchen; only areas marked ``public`` are shown to parents."""

    __tablename__ = "kitchen_area"

    id: Mapped[IntPK]
    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteen.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    public: Mapped[bool] = mapped_column(Boolean, default=False)

    canteen: Mapped[Canteen] = relationship(back_populates="areas")
    cameras: Mapped[list[Camera]] = relationship(back_populates="area", order_by="Camera.id")


class Camera(db.Model):
    """A camera in a kitchen area. Its source URL and credentials are encrypted and never serialised."""

    __tablename__ = "camera"

    id: Mapped[IntPK]
    area_id: Mapped[int] = mapped_column(ForeignKey("kitchen_area.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    source_kind: Mapped[str] = mapped_column(String(20))
    source_url: Mapped[str] = mapped_column(EncryptedText)
    source_username: Mapped[str | None] = mapped_column(EncryptedText)
    source_password: Mapped[str | None] = mapped_column(EncryptedText)
    sampling_interval_seconds: Mapped[int] = mapped_column(Integer, default=5)
    work_hours: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    enabled_checks: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions_of_interest: Mapped[list[list[list[float]]]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[DefaultNow]

    area: Mapped[KitchenArea] = relationship(back_populates="cameras")

    @property
    def source_url_set(self) -> bool:
        """Whether a source URL is stored (its value is never shown)."""
        return bool(self.source_url)

    @property
    def credentials_set(self) -> bool:
        """Whether a user name or password for the source is stored (their values are never shown)."""
        return bool(self.source_username or self.source_password)
