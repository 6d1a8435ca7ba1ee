"""Hostile XML bodies for the callback endpoints (reliability-and-fraud §7.1).

Every builder returns ``bytes`` shaped like a WeChat message, so a naive
parser would happily accept it.  A correct endpoint rejects all of them
quickly (DTDs forbidden, size capped) without expanding anything.

For encrypted endpoints, wrap the payload with the simulator so the
signature is valid and only the inner XML is hostile::

    req = wecom_sim.message(billion_laughs().decode())
    req = oa_sim.message(xxe_file().decode(), "openid")   # safe mode
"""

from __future__ import annotations


def billion_laughs(levels: int = 10, fanout: int = 10) -> bytes:
    """Classic entity-expansion bomb: fanout**levels copies of "lol" (10**10 by default)."""
    ents = ['<!ENTITY lol0 "lol">']
    for i in range(1, levels):
        refs = f"&lol{i - 1};" * fanout
        ents.append(f'<!ENTITY lol{i} "{refs}">')
    dtd = "<!DOCTYPE xml [\n" + "\n".join(ents) + "\n]>"
    return (
        '<?xml version="1.0"?>\n' + dtd + "\n<xml><ToUserName><![CDATA[gh_x]]></ToUserName>"
        "<FromUserName><![CDATA[attacker]]></FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content>&lol{levels - 1};</Content><MsgId>1</MsgId></xml>"
    ).encode()


def quadratic_blowup(entity_size: int = 40_000, refs: int = 1_000) -> bytes:
    """One big entity referenced many times (no nesting, defeats naive depth limits).

    Default: ~43 KB on the wire (under a 64 KiB cap) expanding to ~40 MB.
    """
    dtd = f'<!DOCTYPE xml [<!ENTITY a "{"a" * entity_size}">]>'
    return (
        '<?xml version="1.0"?>\n' + dtd + "<xml><MsgType>text</MsgType>"
        "<Content>" + "&a;" * refs + "</Content><MsgId>2</MsgId></xml>"
    ).encode()


def xxe_file(path: str = "/etc/passwd") -> bytes:
    """External entity reading a local file into Content."""
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file://{path}">]>'
        "<xml><ToUserName><![CDATA[gh_x]]></ToUserName>"
        "<FromUserName><![CDATA[attacker]]></FromUserName>"
        "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content>&xxe;</Content><MsgId>3</MsgId></xml>"
    ).encode()


def xxe_network(url: str = "http://127.0.0.1:9/xxe") -> bytes:
    """External entity fetching a URL (SSRF); the port-9 default goes nowhere."""
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE xml [<!ENTITY xxe SYSTEM "{url}">]>'
        "<xml><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>4</MsgId></xml>"
    ).encode()


def xxe_parameter_entity(url: str = "http://127.0.0.1:9/evil.dtd") -> bytes:
    """Out-of-band XXE through an external parameter entity / external DTD."""
    return (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE xml [<!ENTITY % ext SYSTEM "{url}"> %ext;]>'
        "<xml><MsgType>text</MsgType><Content>hi</Content><MsgId>5</MsgId></xml>"
    ).encode()


def doctype_only() -> bytes:
    """A harmless-looking DOCTYPE; WeChat never sends one, so it must be refused too."""
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE xml>'
        b"<xml><MsgType>text</MsgType><Content>hi</Content><MsgId>6</MsgId></xml>"
    )


def oversized_text(size: int = 2 * 1024 * 1024) -> bytes:
    """A well-formed message whose body exceeds any sane callback cap (default 2 MiB)."""
    head = b"<xml><MsgType>text</MsgType><Content>"
    tail = b"</Content><MsgId>7</MsgId></xml>"
    return head + b"x" * max(0, size - len(head) - len(tail)) + tail


def deep_nesting(depth: int = 100_000) -> bytes:
    """Deeply nested elements (stack exhaustion in recursive parsers)."""
    return b"<xml>" + b"<a>" * depth + b"</a>" * depth + b"</xml>"


ALL_ENTITY_ATTACKS = {
    "billion_laughs": billion_laughs,
    "quadratic_blowup": quadratic_blowup,
    "xxe_file": xxe_file,
    "xxe_network": xxe_network,
    "xxe_parameter_entity": xxe_parameter_entity,
    "doctype_only": doctype_only,
}
