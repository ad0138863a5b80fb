"""A chat's window of recent messages: its packed entry format and the pure arithmetic of what it holds."""

# ``Chat.recent`` keeps the newest messages as strings, ascending by seq: each the seq zero-padded to
# SEQ_WIDTH, a space, and the message's JSON (``null`` for a seq that was reserved and will never hold a
# message). These functions say whether the window alone can answer a read, and which entries answer it, so
# the chat's hot paths read one document instead of the messages collection.

from __future__ import annotations

from collections.abc import Sequence

# A packed window entry starts with its seq, zero-padded to this width, so entries sort by seq as strings.
SEQ_WIDTH = 12
# The JSON of a window entry whose seq holds no message (a retry's reservation, undone): the window stays
# contiguous, so it still answers pages by itself.
NO_MESSAGE = "null"


def packed_entry(seq: int, json: str) -> str:
    return f"{seq:0{SEQ_WIDTH}d} {json}"


def unused_seq_entry(seq: int) -> str:
    """The window entry for a seq that was reserved and will never hold a message."""
    return packed_entry(seq, NO_MESSAGE)


def entry_seq(entry: str) -> int:
    return int(entry[:SEQ_WIDTH])


def entry_json(entry: str) -> str:
    return entry[SEQ_WIDTH + 1 :]


def holds_message(entry: str) -> bool:
    return entry_json(entry) != NO_MESSAGE


def window_start(recent: Sequence[str], last_seq: int) -> int | None:
    """The first seq of the window when it is whole: it ends at ``last_seq`` with no hole (unused seqs are
    marked, not missing); None when only the messages collection can answer (the window is empty, or a
    reserved seq's entry has not landed yet)."""
    if not recent:
        return None
    first, last = entry_seq(recent[0]), entry_seq(recent[-1])
    return first if last == last_seq and last - first == len(recent) - 1 else None


def window_slice(recent: Sequence[str], last_seq: int, *, after: int, before: int) -> slice | None:
    """Where the entries with after < seq < before sit in the window, when it surely holds all of them (it
    is whole and reaches back far enough, or to seq 1); None when the collection must answer."""
    first = window_start(recent, last_seq)
    if first is None or (first > after + 1 and first > 1):
        return None
    return slice(max(0, after + 1 - first), max(0, before - first))


def page_entries(recent: Sequence[str], last_seq: int, *, before: int, size: int) -> list[str] | None:
    """The entries of the newest ``size`` messages with seq < before, oldest first; None when the window
    cannot be sure to hold them all (it must be whole, and reach back far enough or to seq 1). Unused seqs
    are skipped, so the page is full whenever the chat has that many messages."""
    first = window_start(recent, last_seq)
    if first is None:
        return None
    picked: list[str] = []
    for entry in reversed(recent[: max(0, min(len(recent), before - first))]):
        if len(picked) == size:
            break
        if holds_message(entry):
            picked.append(entry)
    if len(picked) < size and first > 1:
        return None  # older messages exist beyond the window
    picked.reverse()
    return picked
