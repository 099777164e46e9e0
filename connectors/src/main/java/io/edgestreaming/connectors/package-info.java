/**
 * Delivery of {@link io.edgestreaming.connectors.Block}s to customer endpoints. The user surface is
 * {@link io.edgestreaming.connectors.DeliveryTopology#attach}; the engine is in {@code .engine} (SPI)
 * and {@code .engine.internal} (the operator); one package per transport ({@code .http}, later
 * {@code .kafka}, {@code .s3}), the layout of flink-connector-kafka's sink.
 */
package io.edgestreaming.connectors;
