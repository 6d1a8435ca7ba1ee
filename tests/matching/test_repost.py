from __future__ import annotations

from matching.repost import RepostIndex, fingerprint, is_repost

A = "急招泥水师傅3个 贴砖 夏茂镇自建房 一天380 做完结 电话13800138000"


def test_small_edits_are_reposts() -> None:
    b = "【转】急招泥水师傅3个，贴砖，夏茂镇自建房，一天380，做完结！电话：138 0013 8000 🙏"
    assert is_repost(A, b)
    assert fingerprint(A) == fingerprint("急招泥水师傅3个贴砖夏茂镇自建房一天380做完结电话13800138000")


def test_different_wage_or_phone_is_a_new_order() -> None:
    assert not is_repost(A, A.replace("380", "400"))
    assert not is_repost(A, A.replace("13800138000", "13900139000"))
    assert not is_repost(A, "招保洁阿姨2名 城区 25元一小时")
    assert not is_repost("", "")


def test_index_maps_reposts_to_first_order() -> None:
    ix = RepostIndex()
    assert ix.add_or_find("o1", A) == "o1"
    assert ix.add_or_find("o2", A + " 👍") == "o1"
    assert ix.add_or_find("o3", "招小工2名 明天7点 日结200") == "o3"
    assert ix.find("招小工2名，明天7点，日结200！") == "o3"
    assert len(ix) == 2
