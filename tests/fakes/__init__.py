"""Fakes of third-party services that the tests run over real HTTP on loopback.

Names are imported lazily so that ``python -m tests.fakes.wechat_server`` does not import the module twice
(runpy warns when the package ``__init__`` already imported the module it is about to run as ``__main__``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ENDPOINTS": "tests.fakes.wechat_server",
    "FakeWeChat": "tests.fakes.wechat_server",
    "FakeWeChatControl": "tests.fakes.wechat_server",
    "derived_openid": "tests.fakes.wechat_server",
    "derived_phone": "tests.fakes.wechat_server",
    "make_wechatpy_client": "tests.fakes.wechat_server",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import an exported name on first use."""
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module_name), name)
