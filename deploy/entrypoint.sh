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
ckan -c "$CKAN_INI" sanyi domain init
# each worker builds CKAN's app itself (--lazy-apps): connections are never shared across a fork
exec uwsgi --http :5000 --http-keepalive --master --lazy-apps --processes "${UWSGI_PROCESSES:-4}" --threads 2 \
  --wsgi-file /srv/app/deploy/wsgi.py --callable application --harakiri 60
