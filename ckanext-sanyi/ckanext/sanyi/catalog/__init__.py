"""The catalog: data units' resources (目录资源) and the operator's products.

``logic`` (actions, auth functions, scheming validators), ``importer`` and ``bulk`` (batch
import and writes), ``overdue`` (update cycles past due), ``units`` (data units), ``demo``
(``ckan sanyi load-demo``), ``views`` (the overdue dashboard, "mark updated").
"""
