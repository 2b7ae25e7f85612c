"""The token endpoint's direct path: a client_credentials token without Django's request cycle.

Most token requests an authorization server sees are the same request: a
``client_credentials`` grant with well-formed client authentication that succeeds.
``serve`` (``path``) answers exactly those straight from the WSGI environ, with the
same functions the full path uses: ``clientauth.request.credentials`` for the
request's shape, ``clientauth.authentication.authenticate`` (the verifier, or the
secret check) for the client, ``grants.grant`` (DOT's settings and scopes backend) for
the token, and ``writer`` for the ``jti`` and the token, written in one transaction.
What it leaves out is the work around them: building an ``HttpRequest`` and its
``QueryDict``, the middleware (whose headers it adds from a template), the URL
resolver, the view's decorators and the ``HttpResponse``, which cost more than the
work itself.

It answers with a 200, or with the full path's 503 when the database fails while the
``jti`` and token are written (they may have committed: no second try with the same
assertion). Every other request, and every request that would not succeed here
(malformed, refused, replayed, a scope error, a database error before the write), is
declined with ``None``, and the full path (``clientauth.views.TokenView``) answers it
from scratch, records the failure and sends the contract's error. A declined request
has changed nothing: the transaction that would have held its ``jti`` and token was
rolled back or never began. So the rules and the wording of every refusal live in one
place, and a refusal costs at most one extra pass of the checks.

Fenced as an optimisation must be (``docs/fast-path.md``): ``PRIVATE_KEY_JWT
["FAST_PATH"]`` turns it off; ``DirectTokenHandler`` (``handler``, the WSGI handler of
``authserver.wsgi``) logs once, at its first token request, whether it is active and,
if not, why; any exception inside it is logged with its traceback and the full path
answers; it keeps Django's request signals (one ``request_started`` and one
``request_finished`` per request, whichever path answers, unless nobody but Django's
own housekeeping listens and that has nothing to do); and the suite runs with it on
and off (``.ci/run``).
"""

from clientauth.fastpath.handler import DirectTokenHandler, announce
from clientauth.fastpath.path import Answer, serve, unavailable_reason

__all__ = ["Answer", "DirectTokenHandler", "announce", "serve", "unavailable_reason"]
