#!/usr/bin/env bash
# End-to-end throughput benchmark (module bench, profile -Pe2e-bench; never part of `mvn verify`): Kafka's own
# consumer, the whole job and a stock Flink pipeline over one preloaded backlog, side by side in one run.
#   ./run-bench.sh [--events 1000000] [--rounds 3] [--parallelism 2] [--malformed-per-10000 10]
#                  [--broker child|embedded] [--profile | --profile-wall] [--seed 4529] [--output bench/target/e2e-bench]
#   ./run-bench.sh --scale [--streams 10000] [--destinations 2000] [--events 100000] [--parallelism 2]
#                  [--checkpoint-interval 5s] [--max-interval 10s] [--settle-timeout 30m] [--output bench/target/scale-bench]
#     many tenants instead (ScaleBench): 10,000 streams over 2,000 destinations of all endpoint types, what they cost.
# Builds only what the benchmark needs (no `mvn install`). EDGE_OFFLINE=1 builds with mvn -o; EDGE_SKIP_BUILD=1
# reuses the last build; BENCH_HEAP sets the benchmark JVM's heap (default 4g; the broker child has 1g).
set -euo pipefail
cd "$(dirname "$0")"

MAIN=io.edgestreaming.bench.EndToEndBench
if [[ "${1:-}" == "--scale" ]]; then
  MAIN=io.edgestreaming.bench.ScaleBench
  shift
fi

MVN_FLAGS=(-B -ntp -q)
if [[ "${EDGE_OFFLINE:-}" == "1" ]]; then MVN_FLAGS+=(-o); fi

if [[ "${EDGE_SKIP_BUILD:-}" == "1" && -f bench/target/runtime-classpath.txt ]]; then
  echo "Skipping the build (EDGE_SKIP_BUILD=1)."
else
  echo "Building (mvn -Pe2e-bench package -pl bench -am) ..."
  mvn "${MVN_FLAGS[@]}" -Pe2e-bench -DskipTests -pl bench -am package dependency:build-classpath \
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

exec java "${JAVA_OPENS[@]}" -Dlog4j2.configurationFile=log4j2-bench.xml -Xms${BENCH_HEAP:-4g} -Xmx${BENCH_HEAP:-4g} \
    -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
    -cp "bench/target/classes:$(cat bench/target/runtime-classpath.txt)" \
    "$MAIN" "$@"
