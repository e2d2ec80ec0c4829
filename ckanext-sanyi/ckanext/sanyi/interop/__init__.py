"""Machine descriptions of the catalog for other systems: the DCAT-AP profile
(``dcat_profile``) that ckanext-dcat serializes with, and the ``sanyi_interop`` plugin."""
