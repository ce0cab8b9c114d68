"""HTTP routes of the inbox, subscribe-message quotas, the WeChat push endpoint and admins' delivery view."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, request

from backend.notices import channel_settings, delivery_views, push, schemas, services
from backend.permissions import Action, current_principal, current_school, rule
from backend.timeutil import utcnow

bp = APIBlueprint("notices", __name__, tag="消息通知")


@bp.get("/inbox")
@rule(Action.AUTHENTICATED)
@bp.input(schemas.InboxQuery, location="query", arg_name="query")
@bp.output(schemas.InboxOut)
def inbox(query: dict[str, Any]) -> Any:
    """The caller's notices (every notice lands here, whatever WeChat did with it) and the unread count."""
    return services.inbox(current_principal().user_id, unread_only=query["unread"], before_id=query["before_id"],
                          limit=query["limit"])


@bp.post("/inbox/<id:notice_id>/read")
@rule(Action.AUTHENTICATED)  # the service answers 404 for another user's notice
@bp.output(schemas.ReadOut)
def read(notice_id: int) -> Any:
    """Mark one notice read."""
    return services.mark_read(current_principal().user_id, notice_id)


@bp.post("/inbox/read-all")
@rule(Action.AUTHENTICATED)
@bp.output(schemas.ReadAllOut)
def read_all() -> Any:
    """Mark every notice read."""
    return {"marked": services.mark_all_read(current_principal().user_id)}


@bp.get("/notices/templates")
@rule(Action.AUTHENTICATED)
@bp.output(schemas.TemplateOut(many=True))
def templates() -> Any:
    """Template ids to pass to ``wx.requestSubscribeMessage``, the likeliest first.

    Those of the caller's newest notices come first: the mini-program asks for the first three.
    """
    return services.subscription_templates(current_principal().user_id)


@bp.get("/me/subscriptions")
@rule(Action.AUTHENTICATED)
@bp.output(schemas.SubscriptionOut(many=True))
def subscriptions() -> Any:
    """How many one-time messages of each template the caller has granted and not yet received."""
    return services.subscriptions_of(current_principal().user_id)


@bp.post("/me/subscriptions")
@rule(Action.AUTHENTICATED)
@bp.input(schemas.SubscriptionsIn, arg_name="body")
@bp.output(schemas.SubscriptionsReportOut)
def report_subscriptions(body: dict[str, Any]) -> Any:
    """Report the result of ``wx.requestSubscribeMessage`` (each accept allows one message)."""
    return services.report_subscriptions(current_principal().user_id, body["results"])


@bp.get("/wechat/push")
@rule(Action.SIGNED)  # WeChat's signature over the configured Token
def push_verify() -> Any:
    """WeChat's URL verification: the ``echostr`` back when the signature is right."""
    return Response(push.verify_url(current_app.config, request.args), mimetype="text/plain")


@bp.post("/wechat/push")
@rule(Action.SIGNED)  # signature (plain mode) or msg_signature over the ciphertext (safe mode)
def push_receive() -> Any:
    """Subscription changes, delivery reports and media-check verdicts pushed by WeChat."""
    message, plaintext = push.decode(current_app.config, request.args, request.get_data(cache=False))
    return Response(push.handle(current_app.config, message, plaintext), mimetype="text/plain")


@bp.get("/admin/notices")
@rule(Action.ADMIN)
@bp.input(schemas.DeliveryQuery, location="query", arg_name="query")
@bp.output(schemas.DeliveryOut(many=True))
def deliveries(query: dict[str, Any]) -> Any:
    """Notices by delivery state; ``failed`` (the default) lists those that need attention."""
    return delivery_views.notice_deliveries(query["status"], before_id=query["before_id"], limit=query["limit"])


@bp.get("/admin/notices/<id:notice_id>/attempts")
@rule(Action.ADMIN)
@bp.output(schemas.AttemptOut(many=True))
def attempts(notice_id: int) -> Any:
    """Every send attempt of a notice."""
    return services.attempts_of(notice_id)


@bp.post("/admin/notices/<id:notice_id>/retry")
@rule(Action.ADMIN)
@bp.output(schemas.DeliveryOut)
def retry(notice_id: int) -> Any:
    """Give a failed notice a fresh budget of attempts."""
    return delivery_views.named_notices([services.retry_delivery(current_principal(), notice_id)])[0]


@bp.get("/me/notice-channels")
@rule(Action.AUTHENTICATED)
@bp.output(schemas.ChannelsOut)
def my_channels() -> Any:
    """How the caller is told: the inbox (always), WeChat messages, SMS, and quiet hours."""
    return channel_settings.read_channels(current_principal().user_id)


@bp.put("/me/notice-channels")
@rule(Action.AUTHENTICATED)
@bp.input(schemas.ChannelsIn, arg_name="body")
@bp.output(schemas.ChannelsOut)
def set_my_channels(body: dict[str, Any]) -> Any:
    """Choose the caller's channels and quiet hours (a class-1 problem ignores quiet hours; class 2 and 3 wait for
    their end); audited."""
    return channel_settings.update_channels(current_principal().user_id, body, utcnow())


# WeCom group robots belong to a school (its staff's groups) or to a region (its inspectors' groups): the same four
# routes under each owner's URLs and rule. The rule resolves the owner; channel_settings takes either.
# (owner scope, rule, URL of the list and create routes, URL of one robot, the four routes' docs)
ROBOT_ROUTES: list[tuple[str, Action, str, str, tuple[str, str, str, str]]] = [
    ("school", Action.NOTICE_SETTINGS, "/schools/<id:school_id>/notice-robots",
     "/schools/<id:school_id>/notice-robots/<id:robot_id>", (
         "The school's WeCom group robots (keys never shown).",
         "Add a WeCom group robot that posts the school's problems of the chosen risk classes; audited.",
         "Change one of the school's robots; audited.",
         "Remove one of the school's robots (what it still had to post is dropped as failed); audited.")),
    ("region", Action.RISK_SETTINGS, "/regions/<id:region_id>/notice-robots",
     "/regions/<id:region_id>/notice-robots/<id:robot_id>", (
         "The region's WeCom group robots (its inspectors' groups; keys never shown).",
         "Add a robot that posts the problems of the chosen classes in every school of the region; audited.",
         "Change one of the region's robots; audited.",
         "Remove one of the region's robots; audited.")),
]


def _register_robot_routes(owner: str, action: Action, collection: str, item: str,
                           docs: tuple[str, str, str, str]) -> None:
    """List, add, change and remove the robots of one kind of owner, under its URLs and its rule."""
    def list_robots(**_owner_id: int) -> Any:
        return channel_settings.list_robots(current_school())

    def add_robot(body: dict[str, Any], **_owner_id: int) -> Any:
        return channel_settings.create_robot(current_principal(), current_school(), body, utcnow())

    def change_robot(robot_id: int, body: dict[str, Any], **_owner_id: int) -> Any:
        return channel_settings.update_robot(current_principal(), current_school(), robot_id, body, utcnow())

    def remove_robot(robot_id: int, **_owner_id: int) -> Any:
        channel_settings.delete_robot(current_principal(), current_school(), robot_id)
        return ""

    views = (list_robots, add_robot, change_robot, remove_robot)
    names = (f"{owner}_robots", f"add_{owner}_robot", f"change_{owner}_robot", f"remove_{owner}_robot")
    for view, name, doc in zip(views, names, docs, strict=True):
        view.__name__, view.__doc__ = name, doc
    allowed = rule(action, scope=owner)
    bp.get(collection)(allowed(bp.output(schemas.RobotOut(many=True))(list_robots)))
    bp.post(collection)(allowed(bp.input(schemas.RobotIn, arg_name="body")(
        bp.output(schemas.RobotOut, status_code=201)(add_robot))))
    bp.put(item)(allowed(bp.input(schemas.RobotUpdateIn, arg_name="body")(bp.output(schemas.RobotOut)(change_robot))))
    bp.delete(item)(allowed(bp.output({}, status_code=204)(remove_robot)))


for _robot_route in ROBOT_ROUTES:
    _register_robot_routes(*_robot_route)


@bp.get("/admin/channel-deliveries")
@rule(Action.ADMIN)
@bp.input(schemas.ChannelDeliveryQuery, location="query", arg_name="query")
@bp.output(schemas.ChannelDeliveryOut(many=True))
def channel_deliveries(query: dict[str, Any]) -> Any:
    """SMS and robot deliveries by state, with their possible duplicates; ``failed`` (the default) first."""
    return delivery_views.channel_deliveries(query["status"], query["channel"], before_id=query["before_id"],
                                             limit=query["limit"])
