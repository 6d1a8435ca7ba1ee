"""An independent WeChat-server simulator for testing the 公众号 and 企业微信 callbacks.

Written from Tencent's protocol description with hashlib + ``cryptography``
(no wechatpy), so it can check our wechatpy-based adapters honestly.

* ``crypto``   - signatures, AES-256-CBC / PKCS#7(32) / random16|len|msg|receive_id
* ``xmlmsg``   - text / voice (with Recognition) / event XML, envelopes, safe parsing
* ``sim``      - ``OfficialAccountSim`` / ``WeComSim`` request builders + reply checkers,
                 ``deliver`` / ``deliver_with_retries`` (aiohttp client side)
* ``payloads`` - XML bombs, XXE, DOCTYPE, oversized and deeply nested bodies
* ``vectors``  - Tencent's published WXBizMsgCrypt sample and wechatpy's vectors
"""

from . import crypto, payloads, vectors, xmlmsg
from .crypto import SimCryptoError
from .sim import (
    OfficialAccountSim,
    SimReplyError,
    SimRequest,
    SimResponse,
    WeComSim,
    deliver,
    deliver_with_retries,
)

__all__ = [
    "OfficialAccountSim",
    "SimCryptoError",
    "SimReplyError",
    "SimRequest",
    "SimResponse",
    "WeComSim",
    "crypto",
    "deliver",
    "deliver_with_retries",
    "payloads",
    "vectors",
    "xmlmsg",
]
