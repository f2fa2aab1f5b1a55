# syntax=docker/dockerfile:1
# Trent's container image. docker-compose.yml builds it; docs/deployment.md, "Deployment (docker compose)",
# says how to run it. Targets:
#   runtime (the default, last stage): JRE only, non-root, the CA key in the data volume;
#   softhsm: the same plus SoftHSM2; the CA key is made in a token on first start.
# No secret is ever copied into an image: they come at run time from /run/secrets or the environment.

# ---- build: JDK 17 and the Maven wrapper (the wrapper fetches Maven; unzip unpacks it) --------------
# The jar is extracted (/trent/trent.jar and its libraries in /trent/lib): a JVM can keep classes
# in an AOT cache only when they come from plain jars on the class path, not from nested ones.
FROM eclipse-temurin:17-jdk AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends unzip \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY mvnw pom.xml ./
COPY .mvn/ .mvn/
COPY db/ db/
COPY src/ src/
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -DskipTests package \
 && cp target/trent-*.jar /trent.jar \
 && java -Djarmode=tools -jar /trent.jar extract --destination /trent

# ---- jre: the runtime's files, shared by the training run and both targets ---------------------------
# JDK 25's runtime (Trent is built for Java 17 and runs on 17 or newer): for its AOT cache, and as fast
# as JDK 17 at steady state (bench/README.md).
FROM eclipse-temurin:25-jre AS jre
# curl for the health check (not every eclipse-temurin JRE image has it).
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 trent \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/trent --no-create-home \
      --shell /usr/sbin/nologin trent \
 && mkdir -p /opt/trent /var/lib/trent \
 && chown 10001:10001 /var/lib/trent \
 && chmod 700 /var/lib/trent
COPY --from=build /trent/ /opt/trent/
# spring.config.import: every file in /run/secrets is a property named like the file, e.g.
# /run/secrets/spring.datasource.password or /run/secrets/trent.bootstrap-admin-token.
# The parallel collector: on two cores it gave 10% more enrollments/s than G1 (the JVM's choice
# with 2 CPUs and 2 GB or more) for 14% less of Trent's CPU, and no worse p99 (bench/README.md, "The
# garbage collector"). Smaller inlining in C2 (a frequently called method inlined up to 150 bytes of
# bytecode instead of 325, compiled code up to 1000 bytes instead of 2500): in the first 30 s after a
# start the JIT's C2 thread took a third less CPU and Trent enrolled 10-23% more, at most 3-4% more
# CPU per enrollment at steady state (bench/README.md, "The first 30 s"); pre-signed OCSP at 1.02 of
# the build before issue 13 with them ("Pre-signed OCSP under the smaller inlining"). Replace the
# whole variable to choose otherwise (e.g. -XX:+UseG1GC), keeping what you want of it.
ENV TRENT_DATA_DIR=/var/lib/trent \
    SPRING_CONFIG_IMPORT=optional:configtree:/run/secrets/ \
    JDK_JAVA_OPTIONS="-XX:+UseParallelGC -XX:InlineSmallCode=1000 -XX:FreqInlineSize=150"
WORKDIR /var/lib/trent

# ---- training: the AOT cache (JEP 483/514) ------------------------------------------------------------
# `trent.jar train` starts a throwaway Trent (its own data directory and embedded PostgreSQL in
# /tmp, none of the environment's settings), enrolls 3,000 devices over REST and EST, renews some
# over mutual TLS, queries OCSP, fetches CRLs, and stops; the JVM then writes the classes it loaded
# and linked to the cache. With it Trent is up in about 4.7 s instead of 7.5 (bench/README.md, "The
# load generator, and cfssl's PostgreSQL").
# Not the methods' profiles (JEP 515, -XX:-AOTRecordTraining, a diagnostic option): with them in
# the cache, JDK 25.0.3 keeps hot methods in C1 code while C2's queue is long on a busy machine
# (JDK-8386852, fixed after 25.0.3), which cost a fifth of the steady enrollment rate on two cores.
# The same JVM, files and options as the targets below: a JVM uses only a cache like it.
# The heap is fixed rather than a share of the build machine's memory: above 32 GB the JVM would
# make a cache without compressed pointers, which no container of usual size could use.
FROM jre AS training
USER 10001:10001
RUN java -Xmx1g -XX:+UnlockDiagnosticVMOptions -XX:-AOTRecordTraining -XX:AOTCacheOutput=/tmp/trent.aot \
    -jar /opt/trent/trent.jar train

# ---- base: what both runtime targets share ----------------------------------------------------------
FROM jre AS base
COPY --from=training /tmp/trent.aot /opt/trent/trent.aot
VOLUME /var/lib/trent
EXPOSE 8080 8443
HEALTHCHECK --interval=10s --timeout=5s --start-period=90s --retries=3 \
  CMD curl -fsS -o /dev/null http://localhost:8080/actuator/health/liveness || exit 1
USER 10001:10001
# java -jar honours the jar manifest's Add-Opens (needed by the PKCS#11 signer). The cache: see the
# training stage. -Xlog keeps the JVM's errors about it (a cache it cannot use: it starts without)
# and hides two warnings JDK 25 prints at every start with a usable cache ("Failed to link
# AdapterHandlerEntry", JDK-8364929: an adapter made again instead of loaded, harmless).
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-XX:AOTCache=/opt/trent/trent.aot", \
    "-Xlog:aot=error,aot+codecache+stubs=error", "-jar", "/opt/trent/trent.jar"]

# ---- softhsm: the CA key in a SoftHSM2 token (docker compose profile hsm) ----------------------------
FROM base AS softhsm
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends softhsm2 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/trent-hsm/tokens \
 && chown -R 10001:10001 /var/lib/trent-hsm \
 && chmod -R 700 /var/lib/trent-hsm
COPY docker/softhsm2.conf /etc/trent/softhsm2.conf
COPY --chmod=755 docker/trent-hsm-entrypoint.sh /usr/local/bin/trent-hsm-entrypoint
ENV SOFTHSM2_CONF=/etc/trent/softhsm2.conf \
    TRENT_CA_SIGNER=pkcs11 \
    TRENT_CA_PKCS11_LIBRARY=/usr/lib/softhsm/libsofthsm2.so \
    TRENT_CA_PKCS11_TOKEN_LABEL=trent-ca \
    TRENT_CA_PKCS11_KEY_LABEL=trent-ca
VOLUME /var/lib/trent-hsm/tokens
USER 10001:10001
# On first start: a token and the CA key in it (Trent's own `ca init`); then CMD, i.e. Trent.
ENTRYPOINT ["/usr/local/bin/trent-hsm-entrypoint"]
CMD ["java", "-XX:MaxRAMPercentage=75", "-XX:AOTCache=/opt/trent/trent.aot", \
    "-Xlog:aot=error,aot+codecache+stubs=error", "-jar", "/opt/trent/trent.jar"]

# ---- runtime: the default target --------------------------------------------------------------------
FROM base AS runtime
