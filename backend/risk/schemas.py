"""Schemas of the risk routes: settings, cards, uptime and the parents' transparency part."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Float, List, Nested, Raw
from apiflask.validators import Length, OneOf, Range, Regexp

from backend.fields import DateTime, Id, Integer, String
from backend.risk.classes import LIMIT_SPECS, MAX_CARD_HOURS, MAX_DEADLINE_HOURS, MIN_DEADLINE_HOURS, RISK_CLASSES
from backend.risk.models import CardColor, WarningKind
from backend.violations.models import ViolationKind

KINDS = [k.value for k in ViolationKind]
COLORS = [c.value for c in CardColor]
WARNING_KINDS = [k.value for k in WarningKind]


class KindSettingIn(Schema):
    """One kind's own class and deadline in the region, or ``inherit`` to take the parent's again."""

    kind = String(required=True, validate=OneOf(KINDS))
    risk_class = Integer(load_default=None, validate=OneOf(list(RISK_CLASSES)))
    deadline_hours = Integer(load_default=None, validate=Range(MIN_DEADLINE_HOURS, MAX_DEADLINE_HOURS))
    inherit = Boolean(load_default=False)


class CardSettingIn(Schema):
    """The region's own card durations (hours), or ``inherit``."""

    yellow_after_hours = Integer(load_default=None, validate=Range(0, MAX_CARD_HOURS),
                                 metadata={"description": "hours after the deadline before a yellow card"})
    red_after_hours = Integer(load_default=None, validate=Range(1, MAX_CARD_HOURS),
                              metadata={"description": "hours after the yellow card before a red one"})
    inherit = Boolean(load_default=False)


class LimitSettingIn(Schema):
    """One early-warning limit's own value in the region (within the limit's range), or ``inherit``."""

    name = String(required=True, validate=OneOf(list(LIMIT_SPECS)))
    value = Integer(load_default=None, validate=Range(0, 1000))
    inherit = Boolean(load_default=False)


class RiskSettingsIn(Schema):
    """Changes to a region's settings: only the kinds and limits listed change; ``cards`` absent leaves them as
    they are."""

    kinds = List(Nested(KindSettingIn), load_default=list, validate=Length(max=len(KINDS)))
    cards = Nested(CardSettingIn, load_default=None, allow_none=True)
    warnings = List(Nested(LimitSettingIn), load_default=list, validate=Length(max=len(LIMIT_SPECS)))


class SourceFields(Schema):
    """Where an effective setting comes from: ``own``, ``inherited`` (from ``source_region_id``) or ``default``."""

    source = String()
    source_label = String()
    source_region_id = Integer(allow_none=True)


class KindSettingOut(SourceFields):
    """A kind's effective class and deadline in the region."""

    kind = String()
    kind_label = String()
    risk_class = Integer()
    risk_class_label = String()
    deadline_hours = Integer()


class CardSettingOut(SourceFields):
    """The region's effective card durations."""

    yellow_after_hours = Integer()
    red_after_hours = Integer()


class LimitSettingOut(SourceFields):
    """An early-warning limit's effective value in the region, its default and the values allowed."""

    name = String()
    label = String()
    value = Integer()
    default = Integer()
    minimum = Integer()
    maximum = Integer()


class RiskSettingsOut(Schema):
    """A region's effective risk settings."""

    region_id = Integer()
    region_name = String()
    kinds = List(Nested(KindSettingOut))
    cards = Nested(CardSettingOut)
    warnings = List(Nested(LimitSettingOut))


class SettingsChangeOut(Schema):
    """One audited change of a region's settings (``before``/``after``: [class, hours] or [yellow, red]; null:
    inherited)."""

    id = Integer()
    at = DateTime()
    actor_id = Integer(allow_none=True)
    actor_name = String(allow_none=True)
    kinds = List(Nested(Schema.from_dict({"kind": String(), "before": List(Integer(), allow_none=True),
                                          "after": List(Integer(), allow_none=True)}, name="KindChangeOut")))
    cards = Nested(Schema.from_dict({"before": List(Integer(), allow_none=True),
                                     "after": List(Integer(), allow_none=True)}, name="CardChangeOut"),
                   allow_none=True)
    warnings = List(Nested(Schema.from_dict({"name": String(), "before": Integer(allow_none=True),
                                             "after": Integer(allow_none=True)}, name="LimitChangeOut")))


class CardQuery(Schema):
    """Filters of a card list: ``state`` active (not lifted), lifted or all; ``color``; ``school_id``."""

    state = String(load_default="active", validate=OneOf(["active", "lifted", "all"]))
    color = String(load_default=None, validate=OneOf(COLORS))
    school_id = Id(load_default=None)


class PublicCardOut(Schema):
    """An active card as parents see it."""

    id = Integer()
    color = String()
    color_label = String()
    risk_class = Integer()
    kind = String()
    kind_label = String()
    issued_at = DateTime()


class CardOut(PublicCardOut):
    """A yellow or red card of one violation."""

    violation_id = Integer()
    violation_status = String()
    title = String()
    school_id = Integer()
    school_name = String()
    due_at = DateTime()
    active = Boolean()
    lifted_at = DateTime(allow_none=True)
    lift_reason = String(allow_none=True)


class LiftIn(Schema):
    """Why the regulator lifts a card."""

    reason = String(required=True, validate=Length(2, 500), multiline=True)


class SchoolUptimeOut(Schema):
    """A school's enabled cameras together: online over known time (null: nothing known)."""

    school_id = Integer()
    school_name = String()
    cameras = Integer()
    uptime_7d = Float(allow_none=True)
    uptime_30d = Float(allow_none=True)


class RegionUptimeOut(Schema):
    """A region's schools, lowest 7-day uptime first."""

    generated_at = String()
    schools = List(Nested(SchoolUptimeOut))


class SchoolRiskOut(Schema):
    """A school's cards (active and lifted) and its uptime."""

    school_id = Integer()
    uptime = Nested(SchoolUptimeOut)
    cards = List(Nested(CardOut))


class IndexQuery(Schema):
    """Which month (``YYYY-MM``); absent: the newest computed."""

    month = String(load_default=None, validate=Regexp(r"^(20\d\d|2100)-(0[1-9]|1[0-2])$",
                                                      error="月份格式应为 YYYY-MM"))


class IndexComponentCapOut(Schema):
    """A component of the index and the most it may deduct."""

    name = String()
    label = String()
    cap = Float()


class PublicIndexComponentOut(IndexComponentCapOut):
    """A component and its deduction (capped)."""

    deduction = Float()


class IndexHistoryOut(Schema):
    """A school's score and rating of one month."""

    month = String()
    score = Float()
    rating = String()
    rating_label = String()


class RatingRuleOut(Schema):
    """One 阳光食堂 rating and its published condition."""

    rating = String()
    label = String()
    min_score = Float()
    max_class1 = Integer(allow_none=True)
    text = String()


class IndexCriteriaOut(Schema):
    """The published formula: each component's cap, the points per problem, and the rating criteria."""

    max_score = Integer()
    components = List(Nested(IndexComponentCapOut))
    class_points = Dict(keys=String(), values=Float())
    severity_points = Dict(keys=String(), values=Float())
    escalated_points = Float()
    uptime_points_per_percent = Float()
    ratings = List(Nested(RatingRuleOut))


class IndexComponentOut(PublicIndexComponentOut):
    """One component: its deduction (capped) and the figures it was computed from."""

    figures = Dict(keys=String(), values=Float(allow_none=True))


class IndexSummaryOut(IndexHistoryOut):
    """A school's index of a month and its rating, computed from the figures up to ``as_of`` (the month's end, or
    the computing time for the current month)."""

    as_of = String()
    school_id = Integer()
    school_name = String()


class RankedIndexOut(IndexSummaryOut):
    """A school's place in the region's ranking."""

    rank = Integer()


class IndexDetailOut(IndexSummaryOut):
    """A school's index with every component."""

    computed_at = String()
    components = List(Nested(IndexComponentOut))


class RegionIndexOut(Schema):
    """A region's monthly ranking (best first), the count of each rating, and the published criteria."""

    region_id = Integer()
    region_name = String()
    month = String(allow_none=True)
    schools = List(Nested(RankedIndexOut))
    ratings = Dict(keys=String(), values=Integer())
    criteria = Nested(IndexCriteriaOut)


class SchoolIndexOut(Schema):
    """A school's index of a month with its components, its place in its region, its last twelve months."""

    school_id = Integer()
    school_name = String()
    month = String(allow_none=True)
    index = Nested(IndexDetailOut, allow_none=True)
    region_rank = Nested(Schema.from_dict({"rank": Integer(), "of": Integer()}, name="RegionRankOut"),
                         allow_none=True)
    history = List(Nested(IndexHistoryOut))
    criteria = Nested(IndexCriteriaOut)


class PublicIndexOut(IndexHistoryOut):
    """What parents see of the index of the newest finished month: score, rating, each component's deduction,
    the criteria."""

    as_of = String()
    components = List(Nested(PublicIndexComponentOut))
    criteria = Nested(IndexCriteriaOut)


class PublicRiskOut(Schema):
    """The parents' transparency data: uptime, active cards and the index of the newest finished month (null
    before the first is computed)."""

    school_id = Integer()
    uptime = Nested(SchoolUptimeOut)
    cards = List(Nested(PublicCardOut))
    index = Nested(PublicIndexOut, allow_none=True)


class SchoolWarningQuery(Schema):
    """Filters of a school's warning list: ``state`` open (default), resolved or all; ``kind``."""

    state = String(load_default="open", validate=OneOf(["open", "resolved", "all"]))
    kind = String(load_default=None, validate=OneOf(WARNING_KINDS))


class WarningQuery(SchoolWarningQuery):
    """Filters of a region's warning list: a school's, and ``school_id``."""

    school_id = Id(load_default=None)


class WarningOut(Schema):
    """An early warning (预警): its kind, where, the reason in Chinese and the data behind it (numbers and ids
    depending on the kind: docs/risk.md), when it was raised, last seen holding and resolved, and the
    regulator's acknowledgement."""

    id = Integer()
    kind = String()
    kind_label = String()
    school_id = Integer()
    school_name = String()
    canteen_id = Integer(allow_none=True)
    canteen_name = String(allow_none=True)
    reason = String()
    data = Dict(keys=String(), values=Raw())
    raised_at = DateTime()
    seen_at = DateTime()
    resolved_at = DateTime(allow_none=True)
    active = Boolean()
    acknowledged_at = DateTime(allow_none=True)
    ack_note = String(allow_none=True)


class AcknowledgeIn(Schema):
    """The regulator's note on a warning (what was done or decided)."""

    note = String(required=True, validate=Length(2, 500), multiline=True)
