"""URLs of the oidc app."""

urlpatterns: list = []
