"""Merchant data-use applications: the CKAN glue around
:mod:`ckanext.sanyi.domain.approval`.

* :mod:`.model` tables, :mod:`.access` who is who, :mod:`.forms` pure input parsing,
  :mod:`.products` what a product draws on, :mod:`.merchants` merchant accounts,
  :mod:`.service` the state transitions (load, lock, transition, persist, audit, notify),
  :mod:`.entitlements` entitlements and their expiry, :mod:`.attachments` uploaded files,
  :mod:`.notify` portal notifications and e-mail, :mod:`.read` dicts for the API and pages,
  :mod:`.helpers` template helpers.

Payments are another feature: this package sends ``application_charged`` and
``application_revoked`` and answers ``order_paid`` (:mod:`ckanext.sanyi.common.signals`,
:mod:`.subscriptions`); ``logic`` holds the actions and auth functions, ``views`` the pages.
"""
