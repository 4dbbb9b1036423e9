"""The identity memo answers only for the very object it was given, and stays bounded."""

from __future__ import annotations

from engine.core.identity_memo import MEMO_ENTRIES_MAX, IdentityMemo


def test_a_value_is_remembered_for_the_same_object_only() -> None:
    memo: IdentityMemo[tuple[str, ...], str] = IdentityMemo()
    key = tuple(["g1", "g2"])
    equal_but_other = tuple(["g1", "g2"])
    assert key == equal_but_other and key is not equal_but_other
    memo.put(key, "packed")
    assert memo.get(key) == "packed"
    assert memo.get(equal_but_other) is None


def test_a_full_memo_forgets_instead_of_growing() -> None:
    memo: IdentityMemo[object, int] = IdentityMemo()
    keys = [object() for _ in range(MEMO_ENTRIES_MAX + 1)]
    for number, key in enumerate(keys):
        memo.put(key, number)
    assert memo.get(keys[-1]) == MEMO_ENTRIES_MAX
    assert all(memo.get(key) is None for key in keys[:-1])
