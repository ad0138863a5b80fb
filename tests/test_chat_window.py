"""The message-window arithmetic, without a server or a store: which messages a page holds, whether older
ones exist, and when the chat's window of recent messages can answer by itself."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from documents.chat import RecentMessage, SenderType
from documents.chat_window import entry_seq, page_entries, unused_seq_entry, window_slice, window_start
from homer_rt.services.chats.commands import MAX_PAGE_SIZE
from homer_rt.services.chats.paging import PageBounds, older_exist

STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def entry(seq: int) -> str:
    return RecentMessage(
        message_id=f"m{seq}",
        seq=seq,
        sender_id="renter",
        sender_type=SenderType.RENTER,
        message=f"message {seq}",
        timestamp=STAMP,
        client_msg_id=f"k{seq}",
    ).packed()


def window(first: int, last: int, *, unused: tuple[int, ...] = ()) -> list[str]:
    """The entries of seqs first..last, those in ``unused`` marked as reserved and never stored."""
    return [unused_seq_entry(seq) if seq in unused else entry(seq) for seq in range(first, last + 1)]


def seqs(entries: list[str] | None) -> list[int] | None:
    return None if entries is None else [entry_seq(e) for e in entries]


# ---- when the window can answer ---------------------------------------------------------------------


def test_a_whole_window_starts_at_its_first_seq() -> None:
    assert window_start(window(1, 5), last_seq=5) == 1
    assert window_start(window(11, 60), last_seq=60) == 11
    assert window_start(window(1, 3, unused=(2,)), last_seq=3) == 1  # an unused seq is marked, not missing


def test_a_window_that_is_empty_behind_or_holed_cannot_answer() -> None:
    assert window_start([], last_seq=0) is None  # an empty chat: the collection answers (with nothing)
    assert window_start(window(1, 5), last_seq=6) is None  # seq 6 reserved, its entry not in place yet
    holed = [entry(1), entry(2), entry(4), entry(5)]
    assert window_start(holed, last_seq=5) is None


def test_packed_entries_sort_by_seq_as_strings() -> None:
    """$push with $sort: 1 keeps the window in seq order only because the padded seq leads each entry."""
    shuffled = [entry(100), unused_seq_entry(10), entry(9), entry(1_000_000), entry(11)]
    assert [entry_seq(e) for e in sorted(shuffled)] == [9, 10, 11, 100, 1_000_000]


# ---- pages from the window --------------------------------------------------------------------------


def test_the_latest_page_is_the_newest_messages_oldest_first() -> None:
    assert seqs(page_entries(window(1, 5), 5, before=6, size=3)) == [3, 4, 5]
    assert seqs(page_entries(window(11, 60), 60, before=61, size=20)) == list(range(41, 61))


def test_a_page_before_a_seq_ends_just_below_it() -> None:
    assert seqs(page_entries(window(1, 5), 5, before=4, size=2)) == [2, 3]
    assert seqs(page_entries(window(1, 5), 5, before=2, size=2)) == [1]  # at the first message
    assert seqs(page_entries(window(1, 5), 5, before=1, size=2)) == []  # before the first: nothing older


def test_a_page_larger_than_the_chat_holds_every_message() -> None:
    assert seqs(page_entries(window(1, 5), 5, before=6, size=MAX_PAGE_SIZE)) == [1, 2, 3, 4, 5]
    assert seqs(page_entries(window(1, 1), 1, before=2, size=30)) == [1]  # a chat of one message


def test_a_page_reaching_past_the_window_is_left_to_the_collection() -> None:
    recent = window(11, 60)
    assert seqs(page_entries(recent, 60, before=21, size=10)) == list(range(11, 21))  # exactly reaches it
    assert page_entries(recent, 60, before=20, size=10) is None  # would need seq 10
    assert page_entries(recent, 60, before=5, size=10) is None  # entirely older than the window
    assert page_entries(recent, 61, before=62, size=10) is None  # a newer seq not in the window yet


def test_unused_seqs_are_skipped_and_the_page_still_filled() -> None:
    recent = window(1, 6, unused=(5,))
    assert seqs(page_entries(recent, 6, before=7, size=3)) == [3, 4, 6]
    ends_unused = window(1, 3, unused=(3,))
    assert seqs(page_entries(ends_unused, 3, before=4, size=5)) == [1, 2]
    # Past seq 1, a page short of its size because of unused seqs must ask the collection for older ones.
    assert page_entries(window(11, 20, unused=(12,)), 20, before=21, size=10) is None


def test_the_window_slice_holds_the_messages_between_two_seqs() -> None:
    recent = window(11, 20)
    where = window_slice(recent, 20, after=15, before=21)
    assert where is not None and seqs(recent[where]) == [16, 17, 18, 19, 20]
    where = window_slice(recent, 20, after=10, before=21)
    assert where is not None and seqs(recent[where]) == list(range(11, 21))
    where = window_slice(recent, 20, after=20, before=21)
    assert where is not None and recent[where] == []  # nothing after the last message
    assert window_slice(recent, 20, after=5, before=21) is None  # seqs 6..10 are not in the window
    where = window_slice(window(1, 5), 5, after=0, before=6)
    assert where is not None and seqs(window(1, 5)[where]) == [1, 2, 3, 4, 5]
    assert window_slice([], 0, after=0, before=1) is None


# ---- pages from the collection (a seq range) --------------------------------------------------------


def test_the_latest_page_covers_the_newest_seqs_and_one_more() -> None:
    bounds = PageBounds.of(last_seq=100, before_seq=None, limit=None, default_size=30)
    assert (bounds.upper, bounds.size, bounds.lower) == (101, 30, 70)
    assert bounds.upper - bounds.lower == bounds.size + 1  # the page and the one that says older exist


def test_a_page_before_a_seq_and_its_limit() -> None:
    bounds = PageBounds.of(last_seq=100, before_seq=50, limit=10, default_size=30)
    assert (bounds.upper, bounds.size, bounds.lower) == (50, 10, 39)
    assert PageBounds.of(last_seq=100, before_seq=None, limit=1_000, default_size=30).size == MAX_PAGE_SIZE
    assert PageBounds.of(last_seq=100, before_seq=None, limit=None, default_size=500).size == MAX_PAGE_SIZE


def test_near_the_first_message_the_range_stops_at_seq_one() -> None:
    bounds = PageBounds.of(last_seq=100, before_seq=5, limit=10, default_size=30)
    assert bounds.lower == 1
    assert not bounds.range_had_gap(4)  # seqs 1..4: everything there is
    assert bounds.page(["m4", "m3", "m2", "m1"]) == (["m1", "m2", "m3", "m4"], False)
    first_only = PageBounds.of(last_seq=100, before_seq=2, limit=10, default_size=30)
    assert first_only.page(["m1"]) == (["m1"], False)


def test_an_empty_chat_has_an_empty_page() -> None:
    bounds = PageBounds.of(last_seq=0, before_seq=None, limit=None, default_size=30)
    assert (bounds.upper, bounds.lower) == (1, 1)
    assert not bounds.range_had_gap(0)
    assert bounds.page([]) == ([], False)


def test_a_range_short_of_messages_above_seq_one_had_a_gap() -> None:
    bounds = PageBounds.of(last_seq=100, before_seq=None, limit=10, default_size=30)
    assert not bounds.range_had_gap(11)
    assert bounds.range_had_gap(10)  # an undone reservation in the range: sort + limit answers instead


@pytest.mark.parametrize(("found", "has_more"), [(11, True), (10, False), (3, False)])
def test_one_message_beyond_the_page_says_older_exist(found: int, has_more: bool) -> None:
    bounds = PageBounds.of(last_seq=100, before_seq=None, limit=10, default_size=30)
    newest_first = list(range(100, 100 - found, -1))
    page, more = bounds.page(newest_first)
    assert page == sorted(newest_first)[-10:] and more is has_more


def test_older_messages_exist_when_a_page_starts_after_seq_one() -> None:
    assert older_exist(2) and older_exist(41)
    assert not older_exist(1)
    assert not older_exist(None)  # an empty page
