# Roster in a container: `docker build -t roster .` then
#   docker run -p 3000:3000 -v roster-data:/var/lib/roster roster
# (SQLite in the volume), or with -e DATABASE_URL=postgres://… for PostgreSQL.
# The build stage runs `make release`, the same step `deploy/smoke.sh` runs and starts
# outside a container; the runtime image holds only the program and its site.

FROM rust:1.95-bookworm AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make release

FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/roster --create-home --shell /usr/sbin/nologin roster
COPY --from=build /src/dist/roster /opt/roster
USER roster
WORKDIR /var/lib/roster
ENV DATABASE_URL="sqlite:///var/lib/roster/roster.db?mode=rwc" \
    ROSTER_ADDR="0.0.0.0:3000" \
    ROSTER_LOG_FORMAT="json" \
    ROSTER_DEMO_USERS="0"
VOLUME ["/var/lib/roster"]
EXPOSE 3000
# `docker stop` sends SIGTERM: the server finishes requests in flight and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/roster/roster"]
CMD ["serve"]
