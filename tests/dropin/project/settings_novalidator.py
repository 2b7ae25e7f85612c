"""The drop-in settings without our validator and backend: DOT's defaults do the work.

Everything else is ``settings``: the apps stay installed and migrated, the certificates
stay imported. A private_key_jwt request must fail here.
"""

from tests.dropin.project.settings import *  # noqa: F403
from tests.dropin.project.settings import OAUTH2_PROVIDER

OAUTH2_PROVIDER = {
    key: value
    for key, value in OAUTH2_PROVIDER.items()
    if key not in ("OAUTH2_VALIDATOR_CLASS", "OAUTH2_BACKEND_CLASS")
}
