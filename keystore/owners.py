"""Whether an alias names someone: the hook through which the app that owns the names
tells the keystore about them.

The keystore knows nothing of OAuth: an alias is a name. The app whose names the
aliases are (``clientauth``: client IDs) registers a function in its ``ready()``;
``import_cert`` and the console then refuse an alias that no registered function
knows, unless told to import it anyway (before the client is registered). With no
function registered (the keystore on its own) every alias is accepted.
"""

from __future__ import annotations

from collections.abc import Callable

_lookups: list[Callable[[str], bool]] = []


def register(lookup: Callable[[str], bool]) -> None:
    """Add ``lookup(alias) -> bool``; registering the same function twice adds it once."""
    if lookup not in _lookups:
        _lookups.append(lookup)


def is_known(alias: str) -> bool:
    """True when some registered lookup knows ``alias``, or when none is registered."""
    return not _lookups or any(lookup(alias) for lookup in _lookups)
