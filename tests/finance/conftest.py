from tests.review.conftest import _fast_argon2  # noqa: F401  (autouse fixture)
