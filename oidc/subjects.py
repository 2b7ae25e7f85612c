"""The subject identifier of a user (OIDC Core section 8, public type).

``sub`` is a random string kept in ``oidc.models.Subject``, created the first time a
user signs in to a client: not the user's primary key, which is sequential and so
tells a client how many users there are and lets it guess others' identifiers. The
same value goes to every client (public, not pairwise) and never changes. Two
processes creating the first one race on the one-to-one constraint and
``get_or_create`` reads the winner. Called by ``oidc.validator`` for ID tokens and
userinfo alike (OIDC Core 5.3.2: their ``sub`` must agree).
"""

from __future__ import annotations

from oidc.models import Subject


def subject_for(user) -> str:
    """The user's ``sub``: one indexed query once it exists."""
    subject, _ = Subject.objects.get_or_create(user=user)
    return subject.sub
