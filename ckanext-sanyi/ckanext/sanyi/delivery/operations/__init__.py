"""Product operations: the answers computed inside the data domain, the only way out of it.

* :mod:`.spec` — the definitions (``schemas/operations.yaml``) as typed, checked dataclasses;
* :mod:`.engine` — resolve, check the reads against approved data items, validate the input,
  run (what the delivery gateway calls);
* :mod:`.person` and :mod:`.cohort` — the SQL fetching the minimal facts of each operation;
  the decisions are pure functions in :mod:`ckanext.sanyi.domain`;
* :mod:`.listing` — the operations as the product pages and ``sanyi_operation_list`` show
  them.
"""
