"""Packaging for ckanext-sanyi.

The repository keeps the extension, the scheming schemas and the fee engine in
separate top-level folders; ``package_dir`` maps them onto importable names:

* ``ckanext.sanyi``          <- ckanext-sanyi/ckanext/sanyi
* ``ckanext.sanyi.schemas``  <- schemas/   (YAML files loaded by ckanext-scheming)
* ``feeengine``              <- feeengine/ (the fee engine: pure Python, no CKAN import)
"""
from setuptools import find_namespace_packages, setup

EXT_ROOT = "ckanext-sanyi"

ext_packages = find_namespace_packages(EXT_ROOT, include=["ckanext.sanyi", "ckanext.sanyi.*"],
                                       exclude=["*.templates*", "*.i18n*", "*.public*", "*.assets*"])
package_dir = {p: f"{EXT_ROOT}/{p.replace('.', '/')}" for p in ext_packages}
package_dir.update({"ckanext.sanyi.schemas": "schemas", "feeengine": "feeengine"})

setup(
    name="ckanext-sanyi",
    version="0.1.0",
    description="三医 public-data authorized operation portal (CKAN extension)",
    python_requires=">=3.11",
    packages=ext_packages + ["ckanext.sanyi.schemas", "feeengine"],
    package_dir=package_dir,
    include_package_data=True,
    package_data={
        "ckanext.sanyi": ["templates/**/*", "*/templates/**/*", "i18n/**/*", "public/**/*", "assets/**/*",
                          "migration/sanyi/*", "migration/sanyi/versions/*",
                          "config_declaration.yaml", "data/*", "search/*.txt"],
        "ckanext.sanyi.schemas": ["*.yaml"],
    },
    install_requires=[
        "ckan[requirements]==2.12.0",
        "ckanext-scheming==3.1.0",
        "jieba>=0.42",
        "pypinyin==0.55.0",
        "opencc-python-reimplemented==0.1.7",
        "python-dateutil>=2.8",
        "elasticsearch>=8",
        "stripe>=10",
        "oauthlib>=3",
        "openpyxl>=3.1",
        "weasyprint==70.0",
        "jsonschema==4.26.0",
        "fastjsonschema==2.22.3",
        "cryptography>=42",
        "ckanext-dcat==2.4.4",
        "numpy==2.2.6",
    ],
    entry_points={
        "ckan.plugins": ["sanyi = ckanext.sanyi.plugin:SanyiPlugin",
                         "sanyi_interop = ckanext.sanyi.interop.plugin:InteropPlugin"],
        "ckan.rdf.profiles": ["sanyi_dcat_ap = ckanext.sanyi.interop.dcat_profile:SanyiDCATAPProfile"],
    },
)
