"""Opening a service's own database (the gateway's, the relayer's): SQLite by default, any SQLAlchemy URL.

One place turns a bad URL, a folder that cannot be made or a database that cannot be opened into one
ConfigError naming the service, and never shows the URL's password.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from carechain.errors import ConfigError


def open_database(url: str, metadata: sa.MetaData, service: str) -> sa.Engine:
    """An engine on `url` with `metadata`'s tables created when missing (a SQLite file's folder too)."""
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as err:
        raise ConfigError(f"not a database URL the {service} can use: {shown_url(url)} ({err})") from None
    try:
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            Path(engine.url.database or "").parent.mkdir(parents=True, exist_ok=True)
        metadata.create_all(engine)
    except OSError as err:
        raise ConfigError(f"cannot open the {service} database {shown_url(url)}: {err.strerror}") from None
    except sa.exc.OperationalError as err:
        raise ConfigError(f"cannot open the {service} database {shown_url(url)}: {err.orig}") from None
    return engine


def shown_url(url: str) -> str:
    """A database URL without its password."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "(unparseable URL)"
