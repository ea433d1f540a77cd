"""Glue tests sign staff in to the console: the review tests' cheaper argon2 applies here too."""

from tests.review.conftest import _fast_argon2  # noqa: F401  (autouse fixture)
