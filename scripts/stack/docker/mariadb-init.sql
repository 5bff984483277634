-- docker-compose only: the grants scripts/stack/mariadb.sh gives natively (binlog reading for CDC).
GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD ON *.* TO 'danau'@'%';
