import DLCMEngine

/// GET /metrics: Prometheus text exposition (version 0.0.4) of the HTTP and engine counters.
extension APIServer {
    func metricsRoute(_ ex: Exchange) {
        ex.respond(status: .ok, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                   body: Array(prometheusText().utf8))
    }

    func prometheusText() -> String {
        var out = PrometheusText()
        let http = httpMetrics.snapshot
        out.header("dlcm_http_requests_total", "counter", "HTTP requests answered, by route template and status (499: client went away).")
        for (route, byStatus) in http.requests.sorted(by: { $0.key < $1.key }) {
            for (status, n) in byStatus.sorted(by: { $0.key < $1.key }) {
                out.sample("dlcm_http_requests_total", ["route": route, "status": String(status)], Double(n))
            }
        }
        out.header("dlcm_http_request_duration_seconds", "histogram", "Time from a request's arrival to the end of its response.")
        for (route, h) in http.durations.sorted(by: { $0.key < $1.key }) {
            out.histogram("dlcm_http_request_duration_seconds", h, ["route": route])
        }
        if let counters = httpCounters?.snapshot {
            out.header("dlcm_http_open_connections", "gauge", "Open client connections.")
            out.sample("dlcm_http_open_connections", [:], Double(counters.openConnections))
            out.header("dlcm_http_connections_closed_at_limit_total", "counter",
                       "At the connection limit: idle keep-alive connections closed to admit a new one (evicted), and new ones refused (rejected, 503).")
            out.sample("dlcm_http_connections_closed_at_limit_total", ["action": "evicted"], Double(counters.evictedConnections))
            out.sample("dlcm_http_connections_closed_at_limit_total", ["action": "rejected"], Double(counters.rejectedConnections))
            out.header("dlcm_http_protocol_errors_total", "counter", "Requests the HTTP layer refused itself (malformed, too large, timed out), by status.")
            for (status, n) in counters.parseErrorsByStatus.sorted(by: { $0.key < $1.key }) {
                out.sample("dlcm_http_protocol_errors_total", ["status": String(status)], Double(n))
            }
        }

        out.gauge("dlcm_open_streams", "Streamed responses in progress.", Double(streamClock.openStreams))
        out.gauge("dlcm_stream_interval_seconds", "Period of the clock streamed tokens leave on (grows with open streams; 0: every token at once).",
                  Double(streamClock.periodNanos) / 1e9)

        let e = engine.metrics.snapshot
        out.gauge("dlcm_queue_length", "Sequences waiting for a batch slot.", Double(e.waiting))
        out.gauge("dlcm_running_sequences", "Sequences in the batch (prefilling or decoding).", Double(e.running))
        out.gauge("dlcm_kv_cache_bytes", "Bytes held by the caches of running sequences.", Double(e.kvCacheBytes))
        out.gauge("dlcm_prefix_cache_bytes", "Bytes of prompt states held by the prefix cache (beside dlcm_kv_cache_bytes; at most --prefix-cache-mb).",
                  Double(e.prefixCacheBytes))
        out.gauge("dlcm_prefix_cache_entries", "Blocks held by the prefix cache (one per prefill-chunk cell of a prompt).", Double(e.prefixCacheEntries))
        out.counter("dlcm_prefix_cache_queried_tokens_total", "Prompt tokens (BOS included) of requests that looked in the prefix cache.",
                    Double(e.prefixCacheQueriedTokens))
        out.counter("dlcm_prefix_cache_hit_tokens_total", "Prompt tokens resumed from the prefix cache instead of read.", Double(e.prefixCacheHitTokens))
        out.gauge("dlcm_prefix_cache_pending_answer_fills", "Ended answers waiting for an idle engine to be read into the prefix cache (or being read).",
                  Double(e.pendingAnswerFills))
        out.counter("dlcm_prefix_cache_evictions_total", "Blocks evicted from the prefix cache to stay within its budget.", Double(e.prefixCacheEvictions))
        out.counter("dlcm_prompt_tokens_total", "Prompt tokens read by the model (BOS included).", Double(e.promptTokens))
        out.counter("dlcm_generated_tokens_total", "Generated tokens fed back through the model.", Double(e.generatedTokens))
        out.counter("dlcm_concepts_emitted_total", "Concepts closed by the router (backbone steps).", Double(e.conceptsEmitted))
        out.counter("dlcm_cancelled_requests_total", "Sequences dropped because the client went away.", Double(e.cancelled))
        out.counter("dlcm_timed_out_requests_total", "Sequences ended by their deadline.", Double(e.timedOut))
        out.counter("dlcm_engine_steps_total", "Batched forward passes.", Double(e.steps))
        out.gauge("dlcm_engine_seconds_since_heartbeat", "Seconds since the engine loop last went round.", engine.secondsSinceHeartbeat)
        let constraints = engine.bundle.outputConstraints.statistics
        out.gauge("dlcm_structured_output_grammars", "Grammars compiled from response_format schemas and tool lists, kept for reuse.",
                  Double(constraints.grammars))
        out.counter("dlcm_structured_output_mask_cache_hits_total", "Token masks of constrained outputs served from a grammar's cache.",
                    Double(constraints.maskHits))
        out.counter("dlcm_structured_output_mask_cache_misses_total", "Token masks of constrained outputs computed from the vocabulary trie.",
                    Double(constraints.maskMisses))
        out.header("dlcm_batch_size", "histogram", "Sequences per forward pass.")
        out.histogram("dlcm_batch_size", e.batchSize, [:])
        out.header("dlcm_tokens_per_concept", "histogram", "Tokens per concept of each finished sequence.")
        out.histogram("dlcm_tokens_per_concept", e.tokensPerConcept, [:])
        out.header("dlcm_time_to_first_token_seconds", "histogram", "Submission to first generated token.")
        out.histogram("dlcm_time_to_first_token_seconds", e.timeToFirstToken, [:])
        out.header("dlcm_inter_token_latency_seconds", "histogram", "Time between consecutive tokens of one sequence.")
        out.histogram("dlcm_inter_token_latency_seconds", e.interTokenLatency, [:])
        out.header("dlcm_engine_step_seconds", "histogram", "Duration of one batched forward pass.")
        out.histogram("dlcm_engine_step_seconds", e.stepDuration, [:])
        return out.text
    }
}
