#!/bin/sh
# First start of the docker-compose PostgreSQL: the four service databases.
set -e
for db in tchat_auth tchat_messaging tchat_payment tchat_notification; do
  psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -c "CREATE DATABASE $db"
done
