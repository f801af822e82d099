"""The central store's tests run against a real PostgreSQL on 127.0.0.1 (``tests/helpers/pg_fixtures.py``)."""

from helpers.pg_fixtures import central_url, pg_server, pg_session  # noqa: F401 (fixtures)
