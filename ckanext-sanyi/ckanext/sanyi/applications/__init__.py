"""Merchant data-use applications (issue 4, without payments): the CKAN glue around
:mod:`ckanext.sanyi.domain.approval`.

* :mod:`.model` tables, :mod:`.access` who is who, :mod:`.forms` pure input parsing,
  :mod:`.products` what a product draws on, :mod:`.merchants` merchant accounts,
  :mod:`.service` the state transitions (load, lock, transition, persist, audit, notify),
  :mod:`.entitlements` entitlements and their expiry, :mod:`.attachments` uploaded files,
  :mod:`.notify` portal notifications and e-mail, :mod:`.read` dicts for the API and pages,
  :mod:`.helpers` template helpers.

The payments engineer calls :func:`.service.mark_paid`; this package calls
``ckanext.sanyi.payments.create_order`` / ``refund_for_application`` when that module exists.
"""
