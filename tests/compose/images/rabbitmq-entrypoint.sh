#!/bin/sh
# What the official rabbitmq image's entrypoint does with RABBITMQ_DEFAULT_USER/PASS/VHOST,
# for Debian's rabbitmq-server: a conf.d file with the default user and virtual host
# (docker-compose.yml mounts the mesh's own settings as conf.d/20-onestop.conf).
set -eu
{
  [ -n "${RABBITMQ_DEFAULT_USER:-}" ] && echo "default_user = ${RABBITMQ_DEFAULT_USER}"
  [ -n "${RABBITMQ_DEFAULT_PASS:-}" ] && echo "default_pass = ${RABBITMQ_DEFAULT_PASS}"
  [ -n "${RABBITMQ_DEFAULT_VHOST:-}" ] && echo "default_vhost = ${RABBITMQ_DEFAULT_VHOST}"
  echo "loopback_users = none"
} > /etc/rabbitmq/conf.d/10-defaults.conf
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
exec "$@"
