#!/bin/sh
# What the official rabbitmq image's entrypoint does with RABBITMQ_DEFAULT_USER/PASS/VHOST,
# for Debian's rabbitmq-server: a conf.d file with the default user and vhost.
set -eu
CONF_DIR=/etc/rabbitmq/conf.d
{
  [ -n "${RABBITMQ_DEFAULT_USER:-}" ] && echo "default_user = ${RABBITMQ_DEFAULT_USER}"
  [ -n "${RABBITMQ_DEFAULT_PASS:-}" ] && echo "default_pass = ${RABBITMQ_DEFAULT_PASS}"
  [ -n "${RABBITMQ_DEFAULT_VHOST:-}" ] && echo "default_vhost = ${RABBITMQ_DEFAULT_VHOST}"
  echo "loopback_users = none"
} > "$CONF_DIR/10-defaults.conf"
# Debian bookworm's RabbitMQ (3.10) does not know keys that 4.x has: copy the mounted
# files into a directory of our own without those (RABBITMQ_CONFIG_FILES points there).
mkdir -p /run/rabbitmq-conf.d
for f in "$CONF_DIR"/*.conf; do
  grep -v -E '^[[:space:]]*default_queue_type[[:space:]]*=' "$f" > "/run/rabbitmq-conf.d/$(basename "$f")" || true
done
export RABBITMQ_CONFIG_FILES=/run/rabbitmq-conf.d
chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /run/rabbitmq-conf.d
exec "$@"
