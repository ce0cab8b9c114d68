"""What the audit log records: every audited action with the words a principal or a regulator reads, and the
categories the log is filtered by. Every ``record_audit`` names one of these (``AuditAction``), so the log never
holds an action no one can read."""

from __future__ import annotations

from backend.enums import LabelledStrEnum


class AuditAction(LabelledStrEnum):
    """An audited action: ``<what>.<verb>``, the part before the dot being its category's prefix."""

    # Watching and downloading (直播与录像)
    LIVE_PLAY = "live.play", "观看直播"
    LIVE_RECORDING_PLAY = "live.recording_play", "回看录像"
    LIVE_SNAPSHOT = "live.snapshot", "截取画面"
    LIVE_CLIP_DOWNLOAD = "live.clip_download", "下载录像片段"
    LIVE_CLIP_PURGE = "live.clip_purge", "清理过期录像片段"
    LIVE_TALK = "live.talk", "对讲喊话"
    LIVE_BROADCAST = "live.broadcast", "一键广播"
    LIVE_PUBLISH_KEY_ROTATED = "live.publish_key_rotated", "更换推流密钥"
    # Records and exports (台账与导出)
    RECORDS_EXPORT = "records.export", "导出台账"
    RECORDS_SEAL = "records.seal", "封存"
    RECORDS_SEAL_RELEASE = "records.seal_release", "解除封存"
    STATS_EXPORT = "stats.export", "导出统计"
    ALARMS_TRAINING_EXPORT = "alarms.training_export", "导出告警训练集"
    # People and accounts (成员与账号)
    MEMBERSHIP_REQUEST = "membership.request", "申请绑定"
    MEMBERSHIP_APPROVE = "membership.approve", "通过绑定申请"
    MEMBERSHIP_REJECT = "membership.reject", "拒绝绑定申请"
    MEMBERSHIP_GRANT = "membership.grant", "直接授予身份"
    MEMBERSHIP_REVOKE = "membership.revoke", "解除绑定"
    INVITE_CREATE = "invite.create", "创建邀请"
    INVITE_REVOKE = "invite.revoke", "撤销邀请"
    CONSOLE_LOGIN_CONFIRM = "console.login_confirm", "扫码登录管理后台"
    USER_BIND_PHONE = "user.bind_phone", "绑定手机号"
    SESSIONS_REVOKE_ALL = "sessions.revoke_all", "退出全部登录"
    ADMIN_GRANT = "admin.grant", "授予平台管理员"
    REGULATOR_GRANT = "regulator.grant", "授予监管权限"
    REGULATOR_REVOKE = "regulator.revoke", "撤销监管权限"
    # The school and its devices (学校与设备)
    SCHOOL_CREATE = "school.create", "创建学校"
    SCHOOL_UPDATE = "school.update", "修改学校信息"
    CANTEEN_CREATE = "canteen.create", "添加食堂"
    CANTEEN_UPDATE = "canteen.update", "修改食堂"
    AREA_CREATE = "area.create", "添加区域"
    AREA_UPDATE = "area.update", "修改区域"
    CAMERA_CREATE = "camera.create", "添加摄像头"
    CAMERA_UPDATE = "camera.update", "修改摄像头"
    CAMERA_TUNING_RAISED = "camera.tuning_raised", "调高告警阈值"
    CAMERA_TUNING_REVERTED = "camera.tuning_reverted", "恢复告警阈值"
    CLASS_CREATE = "class.create", "添加班级"
    CLASS_UPDATE = "class.update", "修改班级"
    CLASS_DELETE = "class.delete", "删除班级"
    NOTICE_SETTINGS_UPDATE = "notice_settings.update", "修改通知设置"
    NOTICE_CHANNELS = "notice.channels", "修改个人通知方式"
    NOTICE_ROBOT = "notice.robot", "设置群机器人"
    NOTICE_RETRY = "notice.retry", "重发通知"
    # Supervision (监管与整改)
    SUPERVISION_ISSUE = "supervision.issue", "下发监督整改通知"
    SUPERVISION_RESPOND = "supervision.respond", "答复监督整改通知"
    SUPERVISION_CLOSE = "supervision.close", "办结监督整改通知"
    SPOT_CHECK_CREATE = "spot_check.create", "发起抽查"
    INSPECTION_CREATE = "inspection.create", "发起检查"
    PATROL_START = "patrol.start", "开始巡查"
    PATROL_END = "patrol.end", "结束巡查"
    RISK_SETTINGS = "risk.settings", "修改风险分级设置"
    RISK_CARD_LIFT = "risk.card_lift", "撤销红黄牌"
    RISK_WARNING_ACK = "risk.warning_ack", "处理预警"
    # Parents' accompanied meals (家长陪餐)
    PARENT_MEAL_SLOT_PUBLISH = "parent_meal.slot_publish", "发布陪餐名额"
    PARENT_MEAL_APPROVE = "parent_meal.approve", "同意陪餐报名"
    PARENT_MEAL_DECLINE = "parent_meal.decline", "婉拒陪餐报名"
    PARENT_MEAL_ANSWER = "parent_meal.answer", "答复陪餐评价"

    @property
    def prefix(self) -> str:
        """The part before the dot, which names the action's category."""
        return self.value.split(".", 1)[0]


class AuditCategory(LabelledStrEnum):
    """The groups the audit log is filtered by."""

    VIEWING = "viewing", "直播与录像"
    RECORDS = "records", "台账与导出"
    PEOPLE = "people", "成员与账号"
    SETUP = "setup", "学校与设备"
    SUPERVISION = "supervision", "监管与整改"
    PARENT_MEALS = "parent_meals", "家长陪餐"


# Each action prefix's category.
PREFIX_CATEGORIES: dict[str, AuditCategory] = {
    "live": AuditCategory.VIEWING,
    "records": AuditCategory.RECORDS, "stats": AuditCategory.RECORDS, "alarms": AuditCategory.RECORDS,
    "membership": AuditCategory.PEOPLE, "invite": AuditCategory.PEOPLE, "console": AuditCategory.PEOPLE,
    "user": AuditCategory.PEOPLE, "sessions": AuditCategory.PEOPLE, "admin": AuditCategory.PEOPLE,
    "regulator": AuditCategory.PEOPLE,
    "school": AuditCategory.SETUP, "canteen": AuditCategory.SETUP, "area": AuditCategory.SETUP,
    "camera": AuditCategory.SETUP, "class": AuditCategory.SETUP, "notice_settings": AuditCategory.SETUP,
    "notice": AuditCategory.SETUP,
    "supervision": AuditCategory.SUPERVISION, "spot_check": AuditCategory.SUPERVISION,
    "inspection": AuditCategory.SUPERVISION, "patrol": AuditCategory.SUPERVISION, "risk": AuditCategory.SUPERVISION,
    "parent_meal": AuditCategory.PARENT_MEALS,
}


# What an audited action was done to (``target_type``), in words.
TARGET_LABELS: dict[str, str] = {
    "camera": "摄像头", "canteen": "食堂", "area": "区域", "class": "班级", "school": "学校", "region": "地区",
    "user": "用户", "membership": "成员绑定", "invite": "邀请", "console_login_ticket": "后台登录码",
    "record": "台账记录", "recording": "录像", "notice": "通知",
    "supervision_order": "监督整改通知", "spot_check": "抽查", "inspection_round": "检查", "patrol_round": "巡查",
    "risk_card": "红黄牌", "risk_warning": "预警", "parent_meal_slot": "陪餐名额", "parent_meal_signup": "陪餐报名",
}


def category_actions(category: AuditCategory) -> list[AuditAction]:
    """The actions of a category."""
    return [action for action in AuditAction if PREFIX_CATEGORIES[action.prefix] == category]
