"""我的通知方式 in the mini-program's fixtures: a person's WeChat messages, SMS (their own number or the one bound
to the account), the risk classes worth an SMS and quiet hours, with the refusals the form shows next to a field.

Runs after the accounts scenarios: the manager has bound 13800138000 by then, the staff member has no phone.
"""

from __future__ import annotations

from tests.contract.recorder import Recorder

API = "/api/v1"
URL = f"{API}/me/notice-channels"


def record_channels(rec: Recorder) -> None:
    """Read the defaults, refusals named by field, a saved choice with an own number, the bound phone used."""
    rec.call("channels_defaults", "GET", URL, who="demo-staff-1", expect=200,
             description="a staff member's channels never set: WeChat on, SMS off, classes 1 and 2, no phone")
    rec.call("channels_phone_required", "PUT", URL, who="demo-staff-1", body={"wechat": True, "sms": True},
             expect=422, description="SMS turned on without a number and none bound to the account")
    rec.call("channels_phone_invalid", "PUT", URL, who="demo-staff-1",
             body={"wechat": True, "sms": True, "phone": "12800138000"}, expect=422,
             description="SMS to a number that is not a mainland mobile number")
    rec.call("channels_quiet_empty", "PUT", URL, who="demo-staff-1",
             body={"wechat": True, "sms": False, "quiet_start": "22:00", "quiet_end": "22:00"}, expect=422,
             description="quiet hours that start and end at the same minute")
    rec.call("channels_saved", "PUT", URL, who="demo-staff-1",
             body={"wechat": False, "sms": True, "phone": "13900139000", "sms_classes": [1, 2, 3],
                   "quiet_start": "22:00", "quiet_end": "07:00"}, expect=200,
             description="WeChat off, SMS to the person's own number for every class, quiet 22:00-07:00")
    rec.call("channels_bound_phone", "GET", URL, who="demo-manager-1", expect=200,
             description="the manager's channels: the bound phone shown masked")
    rec.call("channels_use_bound_phone", "PUT", URL, who="demo-manager-1",
             body={"wechat": True, "sms": True, "phone": None, "sms_classes": [1],
                   "quiet_start": None, "quiet_end": None}, expect=200,
             description="SMS for class 1 to the phone bound to the account, no quiet hours")
