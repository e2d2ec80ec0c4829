#!/bin/sh
# Container start: generate the config once, apply settings and migrations, then serve.
set -e
mkdir -p /etc/ckan /var/lib/ckan
[ -f "$CKAN_INI" ] || ckan generate config "$CKAN_INI"
ckan config-tool "$CKAN_INI" -f /srv/app/deploy/ckan-options.ini
ckan config-tool "$CKAN_INI" -f /srv/app/deploy/production-options.ini
ckan config-tool "$CKAN_INI" "ckan.storage_path=/var/lib/ckan"
ckan -c "$CKAN_INI" db init
ckan -c "$CKAN_INI" db pending-migrations --apply
# the JS translations /api/i18n/<locale> serves (``ckan run`` builds them; uwsgi does not)
ckan -c "$CKAN_INI" translation js
[ "${SANYI_LOAD_DEMO:-false}" = true ] && ckan -c "$CKAN_INI" sanyi load-demo
exec uwsgi --http :5000 --master --processes "${UWSGI_PROCESSES:-4}" --threads 2 \
  --wsgi-file "$(python -c 'import ckan.config.wsgi as w; print(w.__file__)')" \
  --callable application --harakiri 60
