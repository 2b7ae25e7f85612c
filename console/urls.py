"""URLs of the console app."""

urlpatterns: list = []
