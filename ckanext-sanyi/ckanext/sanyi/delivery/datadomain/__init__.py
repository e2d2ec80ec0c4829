"""The data domain: a PostgreSQL database of its own (``ckanext.sanyi.domain.url``) reached
with its own role, which CKAN's database role cannot connect to. :mod:`.sources` declares its
tables (Chinese field names, types, the catalog resource each one backs), :mod:`.tables` the
SQLAlchemy definitions, :mod:`.store` the connection."""
