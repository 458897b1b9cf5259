# tchat-local/postgres:15-debian — a stand-in for the official postgres:15 image
# on machines without Docker Hub (deploy/docker-compose.local.yml): Debian 12's
# PostgreSQL 15 package, with an entrypoint that does what docker-compose.yml
# asks of the official one (POSTGRES_USER/POSTGRES_PASSWORD, a first start that
# runs /docker-entrypoint-initdb.d/*.sh, data in /var/lib/postgresql/data). It is
# not the official image and does not copy its entrypoint.
ARG BASE_IMAGE=debian:12
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
# policy-rc.d: the packages' scripts must not try to start their server here;
# no "main" cluster (the entrypoint makes the data directory).
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf \
 && printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d \
 && apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold postgresql-15 \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d /var/log/apt /var/log/dpkg.log \
 && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data \
 && install -d -o postgres -g postgres -m 2775 /var/run/postgresql /docker-entrypoint-initdb.d
COPY deploy/docker/local/postgres-entrypoint.sh /usr/local/bin/tchat-postgres-entrypoint
ENV PATH=/usr/lib/postgresql/15/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
EXPOSE 5432
STOPSIGNAL SIGINT
ENTRYPOINT ["/usr/local/bin/tchat-postgres-entrypoint"]
CMD ["postgres"]
