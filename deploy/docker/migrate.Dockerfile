# syntax=docker/dockerfile:1
# One-shot migration runner for docker-compose: scripts/migrate.sh with
# tchat-migrate and migrations/postgres/ (the runbook's `migrate.sh`).
#   docker build -f deploy/docker/migrate.Dockerfile -t tchat/migrate .

FROM debian:12 AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
COPY scripts/lib/common.sh scripts/lib/common.sh
RUN apt-get update -qq && scripts/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DTCHAT_SANITIZE=OFF \
      -DTCHAT_E2E_TESTS=OFF -DTCHAT_BENCHMARKS=OFF \
 && ninja -C /build tchat-migrate

FROM debian:12-slim
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends libpq5 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin tchat
WORKDIR /opt/tchat
COPY --from=build /build/bin/tchat-migrate /usr/local/bin/tchat-migrate
COPY migrations/postgres migrations/postgres
COPY scripts/migrate.sh scripts/migrate.sh
ENV TCHAT_MIGRATE=/usr/local/bin/tchat-migrate
USER 10001
ENTRYPOINT ["scripts/migrate.sh"]
CMD ["up"]
