-- docker-compose only: the databases scripts/stack/postgres.sh creates natively.
ALTER ROLE danau WITH REPLICATION;
CREATE DATABASE danau_warehouse OWNER danau;
CREATE DATABASE labs OWNER danau;
