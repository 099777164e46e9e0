#!/usr/bin/env bash
# Runs edge-streaming locally in one JVM: Kafka (KRaft), S3 (s3proxy), an HTTP receiver, an event
# generator and the job on a Flink MiniCluster with its web UI, using deploy/config/example.yaml.
#   ./run-local.sh [--duration 120s] [--rate 200] [--config deploy/config/example.yaml] [--rest-port 8081-8099]
#                  [--output dir]   (received bodies and local-runner.log; default $TMPDIR/edge-streaming-local)
# Builds only what the runner needs (no `mvn install`: nothing is written to ~/.m2 but downloads).
# EDGE_OFFLINE=1 builds with mvn -o; EDGE_SKIP_BUILD=1 reuses the last build.
set -euo pipefail
cd "$(dirname "$0")"

MVN_FLAGS=(-B -ntp -q)
if [[ "${EDGE_OFFLINE:-}" == "1" ]]; then MVN_FLAGS+=(-o); fi

if [[ "${EDGE_SKIP_BUILD:-}" == "1" && -f deploy/target/runtime-classpath.txt ]]; then
  echo "Skipping the build (EDGE_SKIP_BUILD=1)."
else
  echo "Building (mvn package -pl deploy -am) ..."
  mvn "${MVN_FLAGS[@]}" -DskipTests -pl deploy -am package dependency:build-classpath \
      -Dmdep.outputFile=target/runtime-classpath.txt -Dmdep.includeScope=runtime
fi

# Flink needs these opens on Java 17 (as in flink-dist's env.java.opens.all).
JAVA_OPENS=(
  --add-exports=java.base/sun.net.util=ALL-UNNAMED --add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED
  --add-opens=java.base/java.time=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED
)

exec java "${JAVA_OPENS[@]}" -Dlog4j2.configurationFile=log4j2-local-runner.xml -Xmx${EDGE_LOCAL_HEAP:-2g} \
    -cp "deploy/target/classes:$(cat deploy/target/runtime-classpath.txt)" \
    io.edgestreaming.deploy.LocalRunner "$@"
