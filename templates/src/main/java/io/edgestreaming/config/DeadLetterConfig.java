package io.edgestreaming.config;

import java.io.Serializable;

/**
 * Where what cannot be processed goes; nothing is silently discarded.
 *
 * @param eventsTopic Kafka topic (on the source cluster) for raw events that cannot be parsed or
 *     routed, each with its reason and source topic/partition/offset as headers
 * @param blocksPath Flink FileSystem path ({@code file://} locally, {@code s3://} in production) for
 *     blocks that could not be delivered: one entry per block, payload plus manifest
 */
public record DeadLetterConfig(String eventsTopic, String blocksPath) implements Serializable {}
