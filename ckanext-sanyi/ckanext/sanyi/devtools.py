"""Scratch databases and derived configs for benchmarks and the browser test.

Never used by the portal itself. Creating a database needs PostgreSQL's superuser: as root
through ``su postgres`` and otherwise through ``sudo -n -u postgres``, as deploy/setup.sh does.
"""
from __future__ import annotations

import os
import shlex
import socket
import subprocess

LOGGING = """
[loggers]
keys = root
[handlers]
keys = console
[formatters]
keys = generic
[logger_root]
level = WARNING
handlers = console
[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic
[formatter_generic]
format = %(asctime)s %(levelname)-5.5s [%(name)s] %(message)s
"""


def psql_admin(sql: str, db: str = "postgres") -> str:
    """Run one SQL statement as the PostgreSQL superuser; returns its unaligned output."""
    cmd = ["psql", "-v", "ON_ERROR_STOP=1", "-qAt", "-d", db, "-c", sql]
    if os.geteuid() == 0:
        argv = ["su", "postgres", "-c", shlex.join(cmd)]
    else:
        argv = ["sudo", "-n", "-u", "postgres", *cmd]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"psql failed ({sql}): {done.stderr.strip()}")
    return done.stdout.strip()


def create_database(db: str, owner: str, recreate: bool = False) -> None:
    """Create ``db`` (dropping it first when ``recreate``) with the pg_trgm extension."""
    if recreate:
        psql_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    if psql_admin(f"SELECT 1 FROM pg_database WHERE datname = '{db}'") != "1":
        psql_admin(f"CREATE DATABASE \"{db}\" OWNER \"{owner}\" ENCODING 'UTF8' "
                   "TEMPLATE template0")
    psql_admin("CREATE EXTENSION IF NOT EXISTS pg_trgm", db=db)


DOMAIN_ROLE = "sanyi_domain"


def ensure_role(role: str, password: str) -> None:
    """A login role (created when missing; its password set unless it already logs in with
    it: setting a password again, even the same, can fail logins of that role under way)."""
    if psql_admin(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'") != "1":
        psql_admin(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
    elif not _logs_in(role, password):
        psql_admin(f"ALTER ROLE \"{role}\" LOGIN PASSWORD '{password}'")


def _logs_in(role: str, password: str) -> bool:
    import psycopg2
    try:
        psycopg2.connect(host="127.0.0.1", dbname="postgres", user=role, password=password,
                         connect_timeout=5).close()
    except psycopg2.Error:
        return False
    return True


def create_domain_database(db: str, role: str = DOMAIN_ROLE, password: str = DOMAIN_ROLE,
                           recreate: bool = False) -> str:
    """The data domain's database ``db``, owned by ``role``, which alone may connect to it
    (CONNECT revoked from PUBLIC, so CKAN's role cannot), with postgres_fdw usable by ``role``
    for data units' own databases. Returns its SQLAlchemy URL."""
    ensure_role(role, password)
    if recreate:
        psql_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    if psql_admin(f"SELECT 1 FROM pg_database WHERE datname = '{db}'") != "1":
        psql_admin(f"CREATE DATABASE \"{db}\" OWNER \"{role}\" ENCODING 'UTF8' "
                   "TEMPLATE template0")
    psql_admin(f'REVOKE ALL ON DATABASE "{db}" FROM PUBLIC')
    psql_admin(f'GRANT CONNECT, TEMPORARY ON DATABASE "{db}" TO "{role}"')
    psql_admin("CREATE EXTENSION IF NOT EXISTS postgres_fdw", db=db)
    psql_admin(f'GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO "{role}"', db=db)
    return f"postgresql://{role}:{password}@127.0.0.1/{db}"


def write_ini(path: str, base_ini: str, settings: dict[str, object]) -> str:
    """A config that takes everything from ``base_ini`` but ``settings``; returns ``path``."""
    lines = [f"use = config:{os.path.abspath(base_ini)}"]
    lines += [f"{key} = {value}" for key, value in settings.items()]
    with open(path, "w", encoding="utf-8") as f:
        f.write("[app:main]\n" + "\n".join(lines) + "\n" + LOGGING)
    return path


def migrate(ckan_bin: str, ini: str) -> None:
    """``ckan db init`` (idempotent) and the plugins' pending migrations."""
    for args in (["db", "init"], ["db", "pending-migrations", "--apply"]):
        subprocess.run([ckan_bin, "-c", ini, *args], check=True, capture_output=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
