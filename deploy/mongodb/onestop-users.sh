#!/bin/bash
# One MongoDB user per service of the mesh, readWrite on its own database only
# (docs/adr/0021-least-privilege.md). The mongo image runs it once, when it initialises
# an empty data volume (/docker-entrypoint-initdb.d); on a volume made before, run it by hand:
#   docker compose exec mongodb bash /docker-entrypoint-initdb.d/10-onestop-users.sh
# Idempotent: an existing user gets its password and roles set again.
# ONESTOP_SERVICES names the services (docker-compose.yml, generated from the inventory);
# MONGO_PASSWORD_<SERVICE> is each one's password; MONGO_DB_PREFIX their databases' prefix.
set -euo pipefail
for service in ${ONESTOP_SERVICES:?}; do
    variable="MONGO_PASSWORD_$(echo "$service" | tr 'a-z-' 'A-Z_')"
    ONESTOP_USER="$service" ONESTOP_PASSWORD="${!variable:?$variable is not set}" \
    ONESTOP_DB="${MONGO_DB_PREFIX:-onestop_}$service" \
    mongosh --quiet --host 127.0.0.1 -u "$MONGO_INITDB_ROOT_USERNAME" \
        -p "$MONGO_INITDB_ROOT_PASSWORD" --authenticationDatabase admin admin --eval '
        const name = process.env.ONESTOP_USER, pwd = process.env.ONESTOP_PASSWORD;
        const roles = [{ role: "readWrite", db: process.env.ONESTOP_DB }];
        if (db.getUser(name)) db.updateUser(name, { pwd, roles });
        else db.createUser({ user: name, pwd, roles });
        print(`store user ${name}: readWrite on ${process.env.ONESTOP_DB} only`);'
done
