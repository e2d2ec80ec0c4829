"""The portal as a WSGI application, for a WSGI server with several worker processes:

    CKAN_INI=/etc/ckan/ckan.ini gunicorn --chdir deploy wsgi:application \\
        --workers 4 --worker-class gthread --threads 4 --bind 127.0.0.1:5000

Each worker process builds CKAN's app from ``CKAN_INI`` (an absolute path: ``--chdir`` moves
the workers into deploy/; default ``/etc/ckan/ckan.ini``) as
``ckan run`` does (``ckan.cli.load_config`` then ``ckan.config.middleware.make_app``). Build it
in the workers, not in a preloaded master: database and Redis connections must not be shared
across a fork.
"""
from __future__ import annotations

import os

from ckan.cli import load_config
from ckan.config.middleware import make_app

application = make_app(load_config(os.environ.get("CKAN_INI", "/etc/ckan/ckan.ini")))
