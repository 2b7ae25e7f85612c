"""Registers the benchmark's clients in the database that DATABASE_URL names.

Run as ``python bench/setup_clients.py SPEC.json`` with the server's environment; the
spec lists clients with fixed client IDs (so one file of signed assertions serves
every stack) and, for private_key_jwt clients, the PEM certificate to import under
the client ID. Certificates go through the keystore's own import
(``keystore.services.import_certificate``, else ``manage.py import_cert``), the same
path operators use. Secret clients are created through the ORM because the
plain-secret scenario needs ``hash_client_secret=False``, which ``register_app``
does not offer. Called by ``bench.run``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _import_certificate(alias: str, pem: bytes, path: Path) -> None:
    try:
        from keystore.services import import_certificate
    except ImportError:
        from django.core.management import call_command

        call_command("import_cert", "--alias", alias, str(path))
        return
    import_certificate(alias, pem)


def register(spec: list[dict]) -> None:
    from oauth2_provider.models import get_application_model

    model = get_application_model()
    # Trees before ClientMetadata kept the client metadata on the application model.
    on_model = any(f.name == "token_endpoint_auth_method" for f in model._meta.fields)
    for client in spec:
        fields = {
            "client_id": client["client_id"],
            "name": client["name"],
            "client_type": "confidential",
            "authorization_grant_type": model.GRANT_CLIENT_CREDENTIALS,
            "redirect_uris": "",
        }
        metadata = {"token_endpoint_auth_method": client["method"]}
        if client.get("secret"):
            fields["client_secret"] = client["secret"]
            fields["hash_client_secret"] = client.get("hashed", True)
        if client.get("alg"):
            metadata["token_endpoint_auth_signing_alg"] = client["alg"]
        if on_model:
            model.objects.create(**fields, **metadata)
        else:
            from clientauth.models import ClientMetadata

            ClientMetadata.objects.create(application=model.objects.create(**fields), **metadata)
        if client.get("jwks_uri"):
            from clientauth import keysources

            application = model.objects.get(client_id=client["client_id"])
            keysources.set_key_source(application, "jwks_uri", jwks_uri=client["jwks_uri"])
        if client.get("cert"):
            path = Path(client["cert"])
            _import_certificate(client["client_id"], path.read_bytes(), path)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    register(json.loads(Path(argv[1]).read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
