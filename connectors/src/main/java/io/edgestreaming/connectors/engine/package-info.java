/**
 * The one delivery engine shared by every endpoint type: exactly-once, isolated per destination.
 *
 * <h2>Why a write-ahead delivery operator</h2>
 * Flink 2.2's Sink V2 committer retries a failed commit at once, in a loop inside the checkpoint
 * notification, and then fails the job: a customer endpoint down for hours would either fail the job
 * or block every stream of the task. A {@code SinkWriter} never learns that a checkpoint completed.
 * So delivery is a custom operator ({@link io.edgestreaming.connectors.engine.internal.DeliveryOperator},
 * the pattern of Flink's {@code GenericWriteAheadSink} and, for asynchronous calls, of
 * {@code AsyncWaitOperator}):
 * <ul>
 *   <li>a block is prepared once (exact payload and delivery key) when it arrives and held in operator
 *       state; the next checkpoint stages it; only after that checkpoint completes is it sent, so
 *       nothing is visible that a restore could take back. The savepoint of {@code flink stop}
 *       (synchronous, without drain) is the exception: the blocks it stages are left to the job that
 *       restores it (they are in its state), so the stopping job does not send them as well;
 *   <li>every snapshot holds every undelivered block, so a restore re-delivers them with the same
 *       bytes and the same key (HTTP {@code Idempotency-Key}, S3 object name): the destination dedupes;
 *   <li>sends are asynchronous, in per-destination queues with a concurrency limit, exponential
 *       backoff with jitter honouring Retry-After, and a circuit breaker, so a dead destination costs
 *       one probe at a time and never delays the others; outcomes come back through the task mailbox,
 *       so state is only touched on the task thread, and checkpoints never wait for a destination;
 *   <li>retries end after {@code max_retry_duration}, permanent rejections at once, and a destination's
 *       backlog (blocks it has not taken since their checkpoint) is capped: those blocks go to the
 *       {@linkplain io.edgestreaming.connectors.engine.internal.DeadLetterStore dead-letter store};
 *   <li>undelivered blocks may hold a bounded share of the heap (a memory budget per subtask, shared
 *       fairly by the destinations): past it the oldest go to a spool beside the dead-letter store and
 *       checkpoints keep their handles only; spool and dead-letter I/O runs on a few threads of the
 *       engine, never on the task thread.
 * </ul>
 * Only the {@link io.edgestreaming.connectors.engine.Transport} differs per endpoint type (the shape
 * of Vector's sinks: build a request, send it, classify the answer). Kafka needs a transaction open
 * before the checkpoint: {@link io.edgestreaming.connectors.engine.Transport#stage} is its hook.
 *
 * <h2>Known limits</h2>
 * Pending blocks are operator state; their payloads are on the heap (within the memory budget) or on
 * the spool, whose files must be reachable from every TaskManager. The per-block bookkeeping (a few
 * hundred bytes each) stays on the heap: the backlog caps bound it. Bounded inputs need Flink's final checkpoint (on by default): the
 * engine drains (delivers or dead-letters) in that checkpoint's notification, before the task ends.
 */
package io.edgestreaming.connectors.engine;
